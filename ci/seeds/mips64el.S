/* mips64el seed: lib/libc/arch/mips64/SYS.h style stubs (li v0,n; syscall). */
#include "pin.inc"

#include "mips64.inc"

	.text
#ifdef SEED_SHARED
	stub _thread_sys_exit, 00, 1
	stub _thread_sys_write, 01, 4
	stub _thread_sys_getpid, 02, 20
	stub _thread_sys_kbind, 03, 86
	stub _thread_sys_execve, 04, 59
	stub _thread_sys_getpid_again, 05, 20	/* second site for SYS_getpid */
#else
	program_start
	program_stubs
	stub _thread_sys_pinsyscalls, 05, 158
#endif
	openbsd_ident
