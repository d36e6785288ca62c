/* fuzz_http_time: ngx.parse_tcp_time's parser (httptime_parse) on arbitrary bytes.
 * Whatever parses must lie in the formatter's range, and formatting it and parsing the
 * result must give the same second back (the formatter and parser agree). */
#include "httptime.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t sec, again;
    char buf[HTTPTIME_LEN + 1];
    if (httptime_parse((const char *)data, size, &sec) != 0) return 0;
    if (sec < HTTPTIME_MIN || sec > HTTPTIME_MAX) abort();
    if (httptime_format(sec, buf) != HTTPTIME_LEN) abort();
    if (httptime_parse(buf, HTTPTIME_LEN, &again) != 0 || again != sec) abort();
    return 0;
}
