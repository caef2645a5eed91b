/*
 * The ceiling of the architecture on this machine: a libfcgi responder that does nothing but
 * answer a fixed 100-byte body. make bench routes /bench/bare/ to it and compares every custos
 * route against it.
 */
#include <string.h>

#include <fcgiapp.h>

static const char body[] = "0123456789012345678901234567890123456789"
                           "0123456789012345678901234567890123456789"
                           "01234567890123456789";

int
main(void)
{
	FCGX_Request rq;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&rq, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&rq) >= 0) {
		FCGX_PutS(
		    "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n",
		    rq.out);
		FCGX_PutStr(body, (int)strlen(body), rq.out);
		FCGX_Finish_r(&rq);
	}
	return 0;
}
