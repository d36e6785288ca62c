/* check_run.h: the end of every Check test binary: run the suites, free, exit status. */
#ifndef TCPLUA_CHECK_RUN_H
#define TCPLUA_CHECK_RUN_H
#include <check.h>
#include <stdlib.h>

static inline int check_run(SRunner *sr)
{
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
#endif
