/*
 * Contact field rules (see include/sb/core/contact.h): plain scans over
 * bytes, no allocation, so that a validator can run them on every field
 * of every request.
 */
#include <string.h>

#include "sb/core/contact.h"

/* RFC 5322's atext: letters, digits and these. */
#define CONTACT_ATEXT_EXTRA "!#$%&'*+-/=?^_`{|}~"

static bool
contact_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
contact_is_alnum(char c)
{
	return contact_is_digit(c) || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

bool
sb_contact_name_valid(const char *name)
{
	bool visible = false;
	size_t n;

	if (name == NULL || (n = strlen(name)) == 0 || n > SB_CONTACT_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c != ' ')
			visible = true;
	}
	return visible;
}

/* True iff [s, s + n) is a dot-atom: atext runs joined by single dots. */
static bool
contact_local_valid(const char *s, size_t n)
{
	if (n == 0 || n > SB_CONTACT_LOCAL_MAX || s[0] == '.' ||
	    s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.' && s[i + 1] == '.')
			return false;
		if (s[i] != '.' && !contact_is_alnum(s[i]) &&
		    (s[i] == '\0' || strchr(CONTACT_ATEXT_EXTRA, s[i]) == NULL))
			return false;
	}
	return true;
}

/* True iff [s, s + n) is two or more DNS labels joined by dots. */
static bool
contact_domain_valid(const char *s, size_t n)
{
	size_t label = 0, labels = 1;

	if (n == 0 || n > SB_CONTACT_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			labels++;
			continue;
		}
		if (!contact_is_alnum(s[i]) && s[i] != '-')
			return false;
		if ((label == 0 && s[i] == '-') ||
		    ++label > SB_CONTACT_LABEL_MAX)
			return false;
	}
	return label > 0 && s[n - 1] != '-' && labels >= 2;
}

bool
sb_contact_email_valid(const char *email)
{
	const char *at;
	size_t n;

	if (email == NULL || (n = strlen(email)) > SB_CONTACT_EMAIL_MAX ||
	    (at = strchr(email, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return false;
	return contact_local_valid(email, (size_t)(at - email)) &&
	    contact_domain_valid(at + 1, n - (size_t)(at - email) - 1);
}

bool
sb_contact_phone_valid(const char *phone)
{
	const char *p = phone;
	size_t digits = 0;

	if (phone == NULL || strlen(phone) > SB_CONTACT_PHONE_MAX)
		return false;
	if (*p == '+')
		p++;
	if (!contact_is_digit(*p) && *p != '(')
		return false;
	for (; *p != '\0'; p++) {
		if (contact_is_digit(*p))
			digits++;
		else if (strchr(" -.()", *p) == NULL)
			return false;
	}
	return digits >= SB_CONTACT_DIGITS_MIN &&
	    digits <= SB_CONTACT_DIGITS_MAX;
}
