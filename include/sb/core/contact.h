/*
 * The rules a person's contact fields obey wherever Switchboard takes
 * them (the users API, the sandbox's CRM), so that what one side accepts
 * the other does too.  Each is a predicate over NUL-terminated text; the
 * rules and their reasons are in docs/sandbox.md ("The mock CRM").
 */
#ifndef SB_CONTACT_H
#define SB_CONTACT_H

#include <stdbool.h>

#define SB_CONTACT_NAME_MAX 200 /* bytes of a name */
#define SB_CONTACT_EMAIL_MAX 254 /* RFC 5321's path limit less <> */
#define SB_CONTACT_LOCAL_MAX 64 /* RFC 5321 section 4.5.3.1.1 */
#define SB_CONTACT_DOMAIN_MAX 255 /* RFC 5321 section 4.5.3.1.2 */
#define SB_CONTACT_LABEL_MAX 63 /* one DNS label */
#define SB_CONTACT_PHONE_MAX 32 /* bytes of a phone, separators included */
#define SB_CONTACT_DIGITS_MIN 7
#define SB_CONTACT_DIGITS_MAX 15 /* E.164 */

/*
 * True iff name is 1 to SB_CONTACT_NAME_MAX bytes, not only spaces, with
 * no control character.  NULL is false.
 */
bool sb_contact_name_valid(const char *name);

/*
 * True iff email is local@domain within RFC 5321's lengths: the local
 * part RFC 5322's dot-atom (atext runs joined by single dots), the domain
 * at least two DNS labels of letters, digits and inner '-'.  Quoted local
 * parts and address literals are refused.  NULL is false.
 */
bool sb_contact_email_valid(const char *email);

/*
 * True iff phone is an optional leading '+' then digits with the usual
 * separators (space, '-', '.', '(' and ')'), 7 to 15 digits in all, at
 * most SB_CONTACT_PHONE_MAX bytes, starting with a digit or '(' after the
 * '+'.  NULL is false.
 */
bool sb_contact_phone_valid(const char *phone);

#endif
