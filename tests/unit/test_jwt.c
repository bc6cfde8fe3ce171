/*
 * Unit tests for lib/client/jwt.c: an assertion signed with a fresh key is
 * verified here with libcrypto directly (not through the module), its
 * header and claims are what RFC 7523 and Okta ask, jti differs between
 * two signings, and bad keys and claims are refused without quoting the
 * key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "sb/client/jwt.h"
#include "support.h"

#define AUD "https://acme.okta.com/oauth2/v1/token"
#define CLIENT "0oa_client_1"
#define KID "kid-1"
#define IAT 1767225600 /* 2026-01-01 */

struct keys {
	char *private_pem;
	char *public_pem;
	char *other_public; /* another pair's */
};

static int
setup(void **state)
{
	struct keys *k = calloc(1, sizeof(*k));
	char *other_private = NULL;

	if (k == NULL || sodium_init() < 0 ||
	    sb_jwt_key_new(&k->private_pem, &k->public_pem) != SB_OK ||
	    sb_jwt_key_new(&other_private, &k->other_public) != SB_OK)
		return -1;
	sb_jwt_pem_free(other_private);
	*state = k;
	return 0;
}

static int
teardown(void **state)
{
	struct keys *k = *state;

	sb_jwt_pem_free(k->private_pem);
	sb_jwt_pem_free(k->public_pem);
	sb_jwt_pem_free(k->other_public);
	free(k);
	return 0;
}

static const struct sb_jwt_claims good = {
	.client_id = CLIENT,
	.audience = AUD,
	.key_id = KID,
	.issued_at = IAT,
	.lifetime_s = 120,
};

/* Verifies jwt's RS256 signature with libcrypto itself. */
static bool
libcrypto_verify(const char *jwt, const char *public_pem)
{
	const char *dot2 = strrchr(jwt, '.'), *end = NULL;
	unsigned char sig[1024];
	size_t siglen = 0;
	BIO *bio = BIO_new_mem_buf(public_pem, -1);
	EVP_PKEY *key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok;

	assert_non_null(dot2);
	assert_non_null(key);
	assert_int_equal(
	    sodium_base642bin(sig, sizeof(sig), dot2 + 1, strlen(dot2 + 1),
	        NULL, &siglen, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	    0);
	ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, (const unsigned char *)jwt,
	        (size_t)(dot2 - jwt)) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	BIO_free(bio);
	ERR_clear_error();
	return ok;
}

static const char *
str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static double
num(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static void
test_sign_verified(void **state)
{
	struct keys *k = *state;
	char jwt[SB_JWT_MAX], jwt2[SB_JWT_MAX], err[256];
	cJSON *header, *claims, *header2, *claims2;

	assert_int_equal(sb_jwt_sign(k->private_pem, &good, jwt, sizeof(jwt),
	                     err, sizeof(err)),
	    SB_OK);
	assert_true(libcrypto_verify(jwt, k->public_pem));
	assert_false(libcrypto_verify(jwt, k->other_public));
	assert_true(sb_jwt_verify(jwt, k->public_pem));
	assert_false(sb_jwt_verify(jwt, k->other_public));
	/* no padding, URL-safe alphabet only */
	assert_int_equal(strspn(jwt,
	                     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
	                     "wxyz0123456789-_."),
	    strlen(jwt));

	assert_int_equal(sb_jwt_parse(jwt, &header, &claims), SB_OK);
	assert_string_equal(str(header, "alg"), "RS256");
	assert_string_equal(str(header, "typ"), "JWT");
	assert_string_equal(str(header, "kid"), KID);
	assert_string_equal(str(claims, "iss"), CLIENT);
	assert_string_equal(str(claims, "sub"), CLIENT);
	assert_string_equal(str(claims, "aud"), AUD);
	assert_int_equal((int64_t)num(claims, "iat"), IAT);
	assert_true(num(claims, "exp") > num(claims, "iat"));
	assert_true(num(claims, "exp") - num(claims, "iat") <= 300);
	assert_true(strlen(str(claims, "jti")) >= 16);

	/* a second signing: another jti */
	assert_int_equal(sb_jwt_sign(k->private_pem, &good, jwt2, sizeof(jwt2),
	                     err, sizeof(err)),
	    SB_OK);
	assert_int_equal(sb_jwt_parse(jwt2, &header2, &claims2), SB_OK);
	assert_string_not_equal(str(claims, "jti"), str(claims2, "jti"));
	cJSON_Delete(header);
	cJSON_Delete(claims);
	cJSON_Delete(header2);
	cJSON_Delete(claims2);
}

static void
test_tampered(void **state)
{
	struct keys *k = *state;
	char jwt[SB_JWT_MAX], err[256], *dot;

	assert_int_equal(sb_jwt_sign(k->private_pem, &good, jwt, sizeof(jwt),
	                     err, sizeof(err)),
	    SB_OK);
	dot = strchr(jwt, '.');
	dot[3] = dot[3] == 'A' ? 'B' : 'A'; /* a claim byte */
	assert_false(libcrypto_verify(jwt, k->public_pem));
	assert_false(sb_jwt_verify(jwt, k->public_pem));
	assert_false(sb_jwt_verify(jwt, NULL));
	assert_false(sb_jwt_verify("a.b.c", k->public_pem));
}

static void
test_bad_keys_and_claims(void **state)
{
	static const char *const bad_pems[] = { "", "not a key at all",
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE "
		"KEY-----\n",
		NULL };
	struct keys *k = *state;
	char jwt[SB_JWT_MAX], err[256];
	struct sb_jwt_claims c;

	for (size_t i = 0; i < ARRAY_LEN(bad_pems); i++) {
		err[0] = '\0';
		memset(jwt, 'x', sizeof(jwt));
		assert_int_equal(sb_jwt_sign(bad_pems[i], &good, jwt,
		                     sizeof(jwt), err, sizeof(err)),
		    SB_ERR_INVALID);
		assert_string_equal(jwt, "");
		assert_non_null(strstr(err, "private key"));
		assert_false(sb_jwt_key_check(bad_pems[i], err, sizeof(err)));
	}
	/* a public key is no private key; the error never quotes it */
	assert_int_equal(sb_jwt_sign(k->public_pem, &good, jwt, sizeof(jwt),
	                     err, sizeof(err)),
	    SB_ERR_INVALID);
	assert_null(strstr(err, "BEGIN"));
	assert_true(sb_jwt_key_check(k->private_pem, err, sizeof(err)));
	assert_true(sb_jwt_public_key_check(k->public_pem));
	assert_false(sb_jwt_public_key_check(k->private_pem));
	assert_false(sb_jwt_public_key_check("junk"));

	c = good;
	c.lifetime_s = SB_JWT_LIFETIME_MAX_S + 1;
	assert_int_equal(
	    sb_jwt_sign(k->private_pem, &c, jwt, sizeof(jwt), err, sizeof(err)),
	    SB_ERR_INVALID);
	c.lifetime_s = 0;
	assert_int_equal(
	    sb_jwt_sign(k->private_pem, &c, jwt, sizeof(jwt), err, sizeof(err)),
	    SB_ERR_INVALID);
	c = good;
	c.key_id = NULL;
	assert_int_equal(
	    sb_jwt_sign(k->private_pem, &c, jwt, sizeof(jwt), err, sizeof(err)),
	    SB_ERR_INVALID);
	c = good;
	c.audience = "";
	assert_int_equal(
	    sb_jwt_sign(k->private_pem, &c, jwt, sizeof(jwt), err, sizeof(err)),
	    SB_ERR_INVALID);
	/* too small a buffer */
	assert_int_equal(
	    sb_jwt_sign(k->private_pem, &good, jwt, 100, err, sizeof(err)),
	    SB_ERR_TOO_LARGE);
	assert_string_equal(jwt, "");
}

static void
test_parse_bad(void **state)
{
	static const char *const cases[] = { "", "abc", "a.b", "a.b.c.d",
		"!!!.e30.c", /* not base64url */
		"e30.W10.c", /* claims are an array */
		"e30.bnVsbA.c", /* claims are null */
		"e30..c", NULL };
	cJSON *header = (cJSON *)1, *claims = (cJSON *)1;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		assert_int_equal(
		    sb_jwt_parse(cases[i], &header, &claims), SB_ERR_INVALID);
		assert_null(header);
		assert_null(claims);
	}
	assert_int_equal(sb_jwt_parse("e30.e30.", &header, &claims), SB_OK);
	cJSON_Delete(header);
	cJSON_Delete(claims);
}

static void
test_key_public(void **state)
{
	struct keys *k = *state;
	char *pub = NULL;

	assert_int_equal(sb_jwt_key_public(k->private_pem, &pub), SB_OK);
	assert_string_equal(pub, k->public_pem);
	sb_jwt_pem_free(pub);
	assert_int_equal(sb_jwt_key_public("junk", &pub), SB_ERR_INVALID);
	assert_null(pub);
	sb_jwt_pem_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_verified),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_bad_keys_and_claims),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_key_public),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
