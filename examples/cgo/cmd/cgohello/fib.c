/* fib.c - the C half of cgohello. */
#include "fib.h"

long fib(int n)
{
	long a = 0, b = 1;
	for (int i = 0; i < n; i++) {
		long t = a + b;
		a = b;
		b = t;
	}
	return a;
}

/* Which compiler built this file: shows in the output, so a smoke test
 * sees the C half really ran. */
const char *fib_compiler(void)
{
#if defined(__clang__)
	return "clang " __clang_version__;
#elif defined(__GNUC__)
	return "gcc " __VERSION__;
#else
	return "an unknown C compiler";
#endif
}
