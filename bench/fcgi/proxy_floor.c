/*
 * The proxy's floor: what a proxied call cannot avoid.  A FastCGI
 * responder that, for every request, makes one libcurl GET of a fixed URL
 * on one reused easy handle (so curl keeps the upstream connection alive)
 * and answers the upstream's body.  No library, arena, database, guard or
 * credentials.  `make bench` compares GET /proxy/me against it, with
 * BENCH_FLOOR_URL and BENCH_FLOOR_AUTH naming the sandbox endpoint the
 * proxy calls and its Authorization header.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <fcgiapp.h>

#define FLOOR_BODY_MAX (1u << 20) /* upstream bodies past this are cut */

struct floor_body {
	char data[FLOOR_BODY_MAX];
	size_t len;
};

static size_t
floor_write(char *ptr, size_t size, size_t nmemb, void *user)
{
	struct floor_body *body = user;
	size_t n = size * nmemb;

	if (n > sizeof(body->data) - body->len)
		return 0;
	memcpy(body->data + body->len, ptr, n);
	body->len += n;
	return n;
}

int
main(void)
{
	static struct floor_body body;
	const char *url = getenv("BENCH_FLOOR_URL");
	const char *auth = getenv("BENCH_FLOOR_AUTH");
	struct curl_slist *headers = NULL;
	FCGX_Request req;
	CURL *curl;

	if (url == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (curl = curl_easy_init()) == NULL)
		return 1;
	if (auth != NULL)
		headers = curl_slist_append(NULL, auth);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, floor_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		char head[128];
		long status = 502;
		int n;

		body.len = 0;
		if (curl_easy_perform(curl) == CURLE_OK)
			curl_easy_getinfo(
			    curl, CURLINFO_RESPONSE_CODE, &status);
		n = snprintf(head, sizeof(head),
		    "Status: %ld\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n",
		    status, body.len);
		FCGX_PutStr(head, n, req.out);
		FCGX_PutStr(body.data, (int)body.len, req.out);
		FCGX_Finish_r(&req);
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return 0;
}
