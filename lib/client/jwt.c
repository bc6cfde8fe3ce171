/*
 * RS256 JSON Web Tokens (see include/sb/client/jwt.h).  A compact token is
 * base64url(header) "." base64url(claims) "." base64url(signature); the
 * signature is RSASSA-PKCS1-v1_5 with SHA-256 over the first two parts.
 * Keys come and go as PEM text through memory BIOs; a passphrase-protected
 * key is refused rather than prompting on a terminal.  OpenSSL's error
 * queue is cleared after each failure so that it never reaches another
 * caller.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "sb/client/jwt.h"

#define B64URL sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define JWT_SIG_MAX 1024 /* bytes of an RSA signature (8192-bit keys) */
#define JWT_PART_MAX 4096 /* bytes of a decoded header or claims part */

/* The passphrase callback: none, so an encrypted key fails to load. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/* The private key of pem, or NULL (err says why). */
static EVP_PKEY *
key_load(const char *pem, char *err, size_t errsize)
{
	BIO *bio = NULL;
	EVP_PKEY *key = NULL;

	if (pem == NULL || strlen(pem) > SB_JWT_KEY_PEM_MAX) {
		snprintf(err, errsize,
		    "the private key is missing or longer "
		    "than the limit");
		return NULL;
	}
	if ((bio = BIO_new_mem_buf(pem, -1)) != NULL)
		key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (key == NULL) {
		snprintf(err, errsize,
		    "the private key is not an unencrypted PEM private key");
		return NULL;
	}
	if (EVP_PKEY_base_id(key) != EVP_PKEY_RSA ||
	    EVP_PKEY_bits(key) < SB_JWT_RSA_BITS_MIN) {
		snprintf(err, errsize,
		    "the private key must be an RSA key of at least %d bits",
		    SB_JWT_RSA_BITS_MIN);
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

bool
sb_jwt_key_check(const char *pem, char *err, size_t errsize)
{
	EVP_PKEY *key = key_load(pem, err, errsize);

	EVP_PKEY_free(key);
	return key != NULL;
}

/* Appends base64url(bin) to out at *len; false if it does not fit. */
static bool
b64_append(
    char *out, size_t size, size_t *len, const unsigned char *bin, size_t n)
{
	size_t need = sodium_base64_ENCODED_LEN(n, B64URL);

	if (need > size - *len)
		return false;
	sodium_bin2base64(out + *len, size - *len, bin, n, B64URL);
	*len += strlen(out + *len);
	return true;
}

/* Appends base64url of j's unformatted text; false if it does not fit. */
static bool
b64_append_json(char *out, size_t size, size_t *len, const cJSON *j)
{
	char *text = cJSON_PrintUnformatted(j);
	bool ok;

	if (text == NULL)
		return false;
	ok = b64_append(out, size, len, (unsigned char *)text, strlen(text));
	cJSON_free(text);
	return ok;
}

/* The header and claims objects of an assertion; NULL if out of memory. */
static bool
assertion_parts(const struct sb_jwt_claims *c, cJSON **header, cJSON **claims)
{
	unsigned char raw[SB_JWT_JTI_BYTES];
	char jti[sodium_base64_ENCODED_LEN(SB_JWT_JTI_BYTES, B64URL)];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(jti, sizeof(jti), raw, sizeof(raw), B64URL);
	*header = cJSON_CreateObject();
	*claims = cJSON_CreateObject();
	return *header != NULL && *claims != NULL &&
	    cJSON_AddStringToObject(*header, "alg", "RS256") != NULL &&
	    cJSON_AddStringToObject(*header, "typ", "JWT") != NULL &&
	    cJSON_AddStringToObject(*header, "kid", c->key_id) != NULL &&
	    cJSON_AddStringToObject(*claims, "iss", c->client_id) != NULL &&
	    cJSON_AddStringToObject(*claims, "sub", c->client_id) != NULL &&
	    cJSON_AddStringToObject(*claims, "aud", c->audience) != NULL &&
	    cJSON_AddNumberToObject(*claims, "iat", (double)c->issued_at) !=
	    NULL &&
	    cJSON_AddNumberToObject(*claims, "exp",
	        (double)(c->issued_at + c->lifetime_s)) != NULL &&
	    cJSON_AddStringToObject(*claims, "jti", jti) != NULL;
}

/* Signs data with key (RS256) into sig; false on a libcrypto failure. */
static bool
rs256_sign(EVP_PKEY *key, const char *data, size_t n, unsigned char *sig,
    size_t *siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md != NULL && (size_t)EVP_PKEY_size(key) <= *siglen &&
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(md, sig, siglen, (const unsigned char *)data, n) ==
	        1;

	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok;
}

static bool
claims_valid(const struct sb_jwt_claims *c, char *err, size_t errsize)
{
	if (c->client_id == NULL || c->client_id[0] == '\0' ||
	    c->audience == NULL || c->audience[0] == '\0' ||
	    c->key_id == NULL || c->key_id[0] == '\0') {
		snprintf(err, errsize,
		    "an assertion needs a client id, an audience and a key id");
		return false;
	}
	if (c->lifetime_s < 1 || c->lifetime_s > SB_JWT_LIFETIME_MAX_S) {
		snprintf(err, errsize, "an assertion lives 1 to %d seconds",
		    SB_JWT_LIFETIME_MAX_S);
		return false;
	}
	return true;
}

enum sb_err
sb_jwt_sign(const char *pem, const struct sb_jwt_claims *claims, char *out,
    size_t outsize, char *err, size_t errsize)
{
	cJSON *header = NULL, *body = NULL;
	unsigned char sig[JWT_SIG_MAX];
	size_t len = 0, siglen = sizeof(sig);
	EVP_PKEY *key = NULL;
	enum sb_err rc = SB_ERR_INVALID;

	if (outsize > 0)
		out[0] = '\0';
	if (!claims_valid(claims, err, errsize) ||
	    (key = key_load(pem, err, errsize)) == NULL)
		goto out;
	rc = SB_ERR_NOMEM;
	if (!assertion_parts(claims, &header, &body))
		goto out;
	rc = SB_ERR_TOO_LARGE;
	snprintf(err, errsize, "the assertion is too large");
	if (!b64_append_json(out, outsize, &len, header) || len + 1 >= outsize)
		goto out;
	out[len++] = '.';
	if (!b64_append_json(out, outsize, &len, body))
		goto out;
	rc = SB_ERR_CRYPTO;
	snprintf(err, errsize, "the assertion could not be signed");
	if (!rs256_sign(key, out, len, sig, &siglen))
		goto out;
	rc = SB_ERR_TOO_LARGE;
	snprintf(err, errsize, "the assertion is too large");
	if (len + 1 >= outsize)
		goto out;
	out[len++] = '.';
	if (!b64_append(out, outsize, &len, sig, siglen))
		goto out;
	err[0] = '\0';
	rc = SB_OK;
out:
	if (rc != SB_OK && outsize > 0)
		sodium_memzero(out, outsize);
	EVP_PKEY_free(key);
	cJSON_Delete(header);
	cJSON_Delete(body);
	return rc;
}

/* Decodes n base64url characters at s into bin; false if they are not. */
static bool
b64_decode(
    const char *s, size_t n, unsigned char *bin, size_t binmax, size_t *binlen)
{
	const char *end = NULL;

	return n > 0 &&
	    sodium_base642bin(bin, binmax, s, n, NULL, binlen, &end, B64URL) ==
	    0 &&
	    end == s + n;
}

/* Parses n base64url characters at s as a JSON object, or NULL. */
static cJSON *
part_parse(const char *s, size_t n)
{
	unsigned char bin[JWT_PART_MAX];
	size_t len = 0;
	cJSON *j;

	if (!b64_decode(s, n, bin, sizeof(bin), &len))
		return NULL;
	j = cJSON_ParseWithLength((const char *)bin, len);
	if (j != NULL && !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		j = NULL;
	}
	return j;
}

/* Finds the two dots of jwt; false unless there are exactly two. */
static bool
jwt_split(const char *jwt, const char **dot1, const char **dot2)
{
	if (jwt == NULL || strlen(jwt) > SB_JWT_MAX)
		return false;
	*dot1 = strchr(jwt, '.');
	*dot2 = *dot1 != NULL ? strchr(*dot1 + 1, '.') : NULL;
	return *dot2 != NULL && strchr(*dot2 + 1, '.') == NULL;
}

enum sb_err
sb_jwt_parse(const char *jwt, cJSON **header, cJSON **claims)
{
	const char *dot1, *dot2;

	*header = *claims = NULL;
	if (!jwt_split(jwt, &dot1, &dot2))
		return SB_ERR_INVALID;
	*header = part_parse(jwt, (size_t)(dot1 - jwt));
	*claims = part_parse(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (*header != NULL && *claims != NULL)
		return SB_OK;
	cJSON_Delete(*header);
	cJSON_Delete(*claims);
	*header = *claims = NULL;
	return SB_ERR_INVALID;
}

/* The RSA public key of pem, or NULL. */
static EVP_PKEY *
public_load(const char *pem)
{
	BIO *bio = NULL;
	EVP_PKEY *key = NULL;

	if (pem != NULL && strlen(pem) <= SB_JWT_KEY_PEM_MAX &&
	    (bio = BIO_new_mem_buf(pem, -1)) != NULL)
		key = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (key != NULL &&
	    (EVP_PKEY_base_id(key) != EVP_PKEY_RSA ||
	        EVP_PKEY_bits(key) < SB_JWT_RSA_BITS_MIN)) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	return key;
}

bool
sb_jwt_public_key_check(const char *pem)
{
	EVP_PKEY *key = public_load(pem);

	EVP_PKEY_free(key);
	return key != NULL;
}

/* True iff the header of jwt names alg RS256. */
static bool
header_rs256(const char *jwt)
{
	cJSON *header = NULL, *claims = NULL;
	const cJSON *alg;
	bool ok;

	if (sb_jwt_parse(jwt, &header, &claims) != SB_OK)
		return false;
	alg = cJSON_GetObjectItemCaseSensitive(header, "alg");
	ok = cJSON_IsString(alg) && strcmp(alg->valuestring, "RS256") == 0;
	cJSON_Delete(header);
	cJSON_Delete(claims);
	return ok;
}

bool
sb_jwt_verify(const char *jwt, const char *public_pem)
{
	unsigned char sig[JWT_SIG_MAX];
	const char *dot1, *dot2;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *key = NULL;
	size_t siglen = 0;
	bool ok = false;

	if (!jwt_split(jwt, &dot1, &dot2) || !header_rs256(jwt) ||
	    !b64_decode(dot2 + 1, strlen(dot2 + 1), sig, sizeof(sig), &siglen))
		return false;
	if ((key = public_load(public_pem)) == NULL ||
	    (md = EVP_MD_CTX_new()) == NULL)
		goto out;
	ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, (const unsigned char *)jwt,
	        (size_t)(dot2 - jwt)) == 1;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return ok;
}

/* The text of a memory BIO as a fresh string, or NULL. */
static char *
bio_text(BIO *bio)
{
	char *data = NULL, *text;
	long n = BIO_get_mem_data(bio, &data);

	if (n <= 0 || n > SB_JWT_KEY_PEM_MAX ||
	    (text = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(text, data, (size_t)n);
	text[n] = '\0';
	return text;
}

/* The PEM SubjectPublicKeyInfo of key, or NULL. */
static char *
public_pem_of(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *text = NULL;

	if (bio != NULL && PEM_write_bio_PUBKEY(bio, key) == 1)
		text = bio_text(bio);
	BIO_free(bio);
	return text;
}

enum sb_err
sb_jwt_key_new(char **private_pem, char **public_pem)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	enum sb_err rc = SB_ERR_CRYPTO;

	*private_pem = *public_pem = NULL;
	if (pctx == NULL || EVP_PKEY_keygen_init(pctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(pctx, SB_JWT_RSA_BITS) != 1 ||
	    EVP_PKEY_keygen(pctx, &key) != 1 ||
	    (bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	rc = SB_ERR_NOMEM;
	if ((*private_pem = bio_text(bio)) == NULL ||
	    (*public_pem = public_pem_of(key)) == NULL) {
		sb_jwt_pem_free(*private_pem);
		*private_pem = NULL;
		goto out;
	}
	rc = SB_OK;
out:
	BIO_free_all(bio);
	EVP_PKEY_free(key);
	EVP_PKEY_CTX_free(pctx);
	ERR_clear_error();
	return rc;
}

enum sb_err
sb_jwt_key_public(const char *pem, char **public_pem)
{
	char err[128];
	EVP_PKEY *key = key_load(pem, err, sizeof(err));

	*public_pem = NULL;
	if (key == NULL)
		return SB_ERR_INVALID;
	*public_pem = public_pem_of(key);
	EVP_PKEY_free(key);
	ERR_clear_error(); /* a failed write leaves its errors queued */
	return *public_pem != NULL ? SB_OK : SB_ERR_NOMEM;
}

void
sb_jwt_pem_free(char *pem)
{
	if (pem == NULL)
		return;
	sodium_memzero(pem, strlen(pem));
	free(pem);
}
