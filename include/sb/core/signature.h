/*
 * Signed webhooks, Stripe's scheme: the header "t=<unix seconds>,v1=<hex>"
 * where v1 is the lowercase hex HMAC-SHA256, keyed by a shared secret, of
 * "<t>.<raw body>".  The mock CRM signs with it and the gateway checks
 * with it, so both sides are one piece of code.
 */
#ifndef SB_SIGNATURE_H
#define SB_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SB_SIGNATURE_HEX 65 /* 64 hex digits and a NUL */
#define SB_SIGNATURE_HEADER_MAX 96 /* "t=<20 digits>,v1=<64 hex>" and NUL */
#define SB_SIGNATURE_TOLERANCE_S 300 /* how far t may be from now */

/*
 * Writes into out the lowercase hex HMAC-SHA256 keyed by secret of
 * "<t>.<body>" (len bytes of body).
 */
void sb_signature_hex(const char *secret, int64_t t, const char *body,
    size_t len, char out[SB_SIGNATURE_HEX]);

/*
 * Writes the whole header value "t=<t>,v1=<hex>" for body into out.
 */
void sb_signature_header(const char *secret, int64_t t, const char *body,
    size_t len, char out[SB_SIGNATURE_HEADER_MAX]);

/*
 * True iff header is exactly "t=<digits>,v1=<64 lowercase hex>" (t
 * without a leading zero), t is
 * within tolerance_s of now, and v1 equals the body's signature under
 * secret (compared in constant time).  NULL header or secret is false.
 */
bool sb_signature_valid(const char *header, const char *secret,
    const char *body, size_t len, int64_t now, int64_t tolerance_s);

#endif
