#ifndef FIB_H
#define FIB_H
long fib(int n);
const char *fib_compiler(void);
#endif
