/* fuzz_http_time: ngx.parse_tcp_time's parser (clock_parse_http_time) on arbitrary bytes.
 * Whatever parses must lie in the formatter's range, and formatting it and parsing the
 * result must give the same second back (the formatter and parser agree). */
#include "clock.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t sec, again;
    char buf[CLOCK_HTTP_TIME_LEN + 1];
    if (clock_parse_http_time((const char *)data, size, &sec) != 0) return 0;
    if (sec < CLOCK_HTTP_MIN || sec > CLOCK_HTTP_MAX) abort();
    if (clock_http_time(sec, buf) != CLOCK_HTTP_TIME_LEN) abort();
    if (clock_parse_http_time(buf, CLOCK_HTTP_TIME_LEN, &again) != 0 || again != sec) abort();
    return 0;
}
