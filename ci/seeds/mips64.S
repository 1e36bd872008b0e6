/* mips64 seed: lib/libc/arch/mips64/SYS.h style stubs (li v0,n; syscall). */
#include "pin.inc"

#include "mips64.inc"

	.text
#ifdef SEED_SHARED
	stub _thread_sys_write, 00, 4
	stub _thread_sys_getpid, 01, 20
	stub _thread_sys_kbind, 02, 86
	stub write, 03, 4		/* second site for SYS_write */
	stub _thread_sys_execve, 04, 59
	stub _thread_sys_exit, 05, 1
#else
	program_start
	program_stubs
#endif
	openbsd_ident
