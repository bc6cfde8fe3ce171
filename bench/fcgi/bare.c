/*
 * The benchmark's floor: a FastCGI responder that answers a constant through
 * libfcgi alone, with no library, arena or database.  `make bench` compares
 * the real responders against it to measure what Switchboard adds.
 */
#include <fcgiapp.h>

static const char answer[] = "Status: 200 OK\r\n"
                             "Content-Type: application/json\r\n"
                             "Content-Length: 15\r\n\r\n"
                             "{\"status\":\"ok\"}";

int
main(void)
{
	FCGX_Request req;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(answer, (int)sizeof(answer) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
