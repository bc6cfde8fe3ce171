/*
 * JSON Web Tokens signed with RS256 (RFC 7515, RFC 7519), as OAuth 2.0's
 * private_key_jwt client authentication (RFC 7523) uses them: Switchboard
 * signs a short-lived client assertion with a customer's RSA private key,
 * and the sandbox verifies one with the registered public key.  The crypto
 * is OpenSSL libcrypto's EVP API, base64url is libsodium's, JSON is
 * cJSON's; this module only puts them together.  Nothing here logs a key,
 * an assertion or a claim.
 */
#ifndef SB_JWT_H
#define SB_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "sb/core/err.h"

#define SB_JWT_MAX 8192 /* bytes of one compact JWT */
#define SB_JWT_LIFETIME_MAX_S 300 /* an assertion lives 5 minutes at most */
#define SB_JWT_RSA_BITS_MIN 2048 /* smaller RSA keys are refused */
#define SB_JWT_RSA_BITS 2048 /* keys sb_jwt_key_new() makes */
#define SB_JWT_JTI_BYTES 18 /* random bytes of a jti (24 characters) */
#define SB_JWT_KEY_PEM_MAX 8192 /* bytes of a PEM key */

/* What an assertion claims: iss and sub are one client id. */
struct sb_jwt_claims {
	const char *client_id; /* iss and sub */
	const char *audience; /* aud: the token URL */
	const char *key_id; /* the header's kid */
	int64_t issued_at; /* iat, unix seconds */
	int lifetime_s; /* exp - iat, 1 to SB_JWT_LIFETIME_MAX_S */
};

/*
 * Signs a client assertion for claims with the PEM RSA private key pem
 * (PKCS#8 or PKCS#1, unencrypted, at least SB_JWT_RSA_BITS_MIN bits):
 * header {"alg":"RS256","typ":"JWT","kid"}, claims {"iss","sub","aud",
 * "iat","exp","jti"} with a fresh random jti.  On SB_OK out holds the
 * compact token; otherwise out is empty and the result is SB_ERR_INVALID
 * (a bad key or claim; err says which, never quoting the key),
 * SB_ERR_TOO_LARGE (out too small), SB_ERR_CRYPTO or SB_ERR_NOMEM.
 */
enum sb_err sb_jwt_sign(const char *pem, const struct sb_jwt_claims *claims,
    char *out, size_t outsize, char *err, size_t errsize);

/*
 * True if pem is an RSA private key sb_jwt_sign() takes; err says why not
 * (without quoting the key).
 */
bool sb_jwt_key_check(const char *pem, char *err, size_t errsize);

/*
 * Splits the compact token jwt and parses its header and claims, without
 * verifying anything.  On SB_OK *header and *claims are set and the caller
 * frees both with cJSON_Delete(); otherwise both are NULL and the result
 * is SB_ERR_INVALID (not three base64url parts of JSON objects, or longer
 * than SB_JWT_MAX) or SB_ERR_NOMEM.
 */
enum sb_err sb_jwt_parse(const char *jwt, cJSON **header, cJSON **claims);

/*
 * True iff jwt's header says RS256 and its signature verifies with the
 * PEM RSA public key public_pem (SubjectPublicKeyInfo).
 */
bool sb_jwt_verify(const char *jwt, const char *public_pem);

/*
 * True if pem is a PEM RSA public key (SubjectPublicKeyInfo) of at least
 * SB_JWT_RSA_BITS_MIN bits.
 */
bool sb_jwt_public_key_check(const char *pem);

/*
 * Makes a fresh SB_JWT_RSA_BITS RSA key pair as PEM: *private_pem PKCS#8,
 * *public_pem SubjectPublicKeyInfo.  On SB_OK the caller frees both with
 * sb_jwt_pem_free(); otherwise both are NULL (SB_ERR_CRYPTO,
 * SB_ERR_NOMEM).
 */
enum sb_err sb_jwt_key_new(char **private_pem, char **public_pem);

/*
 * The PEM public key of the PEM private key pem.  On SB_OK *public_pem is
 * set and freed with sb_jwt_pem_free(); SB_ERR_INVALID for a bad key.
 */
enum sb_err sb_jwt_key_public(const char *pem, char **public_pem);

/* Wipes and frees a PEM string of this module; NULL is a no-op. */
void sb_jwt_pem_free(char *pem);

#endif
