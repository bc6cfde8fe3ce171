/*
 * GET /data's _like: POSIX extended regular expressions, ignoring case,
 * bounded in what they cost before they are compiled.  glibc's regcomp()
 * copies a repeated piece once per count (x{1,1000} is a thousand x's,
 * and nested repeats multiply: the 19 bytes (a{1,1000}){1,1000} took
 * seconds and gigabytes before it failed), and its anchors cost time
 * exponential in their number, in their repeats ((^)* twenty times took
 * seconds) and in the loops on nothing ((a*)*, (a|)+) of the pattern they
 * are in.  So a pattern is scanned first and refused past these named
 * limits and rules; one that passes compiles in milliseconds, and glibc
 * matches it without backtracking (no back-references), in time at most
 * quadratic in the text (it tries each start).
 *
 * A query compiles each of its patterns once (sb_fetch_like_compile) and
 * matches every item with the compiled pattern (sb/fetch/select.h).
 */
#ifndef SB_FETCH_LIKE_H
#define SB_FETCH_LIKE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "sb/core/err.h"

#define SB_FETCH_LIKE_BYTES_MAX 256 /* bytes of a pattern */
#define SB_FETCH_LIKE_BOUND_MAX 32 /* m and n of a {m,n} */
/* pieces of a pattern once its repeats are copied out: x{m,n} counts x n
 * times (x{m,} m + 1 times, x+ twice, x* and x? once); nested repeats
 * multiply */
#define SB_FETCH_LIKE_SIZE_MAX 256
#define SB_FETCH_LIKE_ANCHORS_MAX 4 /* ^ $ \b \B \< \> \` \' of a pattern */

/*
 * True iff pattern is within the limits above and has no back-reference
 * (\1-\9), no repeated anchor ((^)*, (a$){2}) and no unbounded repeat
 * (* + {m,}) of what can match the empty string ((a*)*, (a|)+, a**);
 * otherwise err (errsize bytes) names the limit or rule it breaks.  Whether
 * pattern is a regular expression at all is sb_fetch_like_compile()'s to say.
 */
bool sb_fetch_like_check(const char *pattern, char *err, size_t errsize);

/*
 * Checks pattern (sb_fetch_like_check) and compiles it into *re
 * (extended, ignoring case, no sub-matches).  On SB_OK the caller frees
 * *re with regfree(); on SB_ERR_INVALID nothing is held and err says why.
 */
enum sb_err sb_fetch_like_compile(
    const char *pattern, regex_t *re, char *err, size_t errsize);

#endif
