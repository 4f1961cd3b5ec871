/*
 * Poisons libc functions that are easy to misuse (unbounded copies, hidden
 * static state, silent conversion failures). Include it last in every .c.
 */
#ifndef COMMON_BANNED_H
#define COMMON_BANNED_H

#pragma GCC poison strcpy strcat sprintf vsprintf strtok gmtime localtime atoi atol atoll strncpy
#pragma GCC poison ctime asctime tmpnam gets

#endif
