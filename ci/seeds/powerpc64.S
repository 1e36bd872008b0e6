/* powerpc64 seed: lib/libc/arch/powerpc64/SYS.h style stubs (li 0,n; sc). */
#include "pin.inc"

#include "powerpc.inc"

	.text
#ifdef SEED_SHARED
	stub _thread_sys_write, 00, 4
	stub _thread_sys_getpid, 01, 20
	stub _thread_sys_kbind, 02, 86
	stub _thread_sys_execve, 03, 59
	stub _thread_sys_close, 04, 6
	stub write, 05, 4		/* second site for SYS_write */
	stub _thread_sys_exit, 06, 1
#else
	.globl _start
	.type _start,%function
_start:
	bl _thread_sys_getpid
	nop
	bl _thread_sys_write
	nop
	li 3, 0
	li 0, 1
	trapsite 00, 1			/* inline exit from the startup code */
	sc
	trap
	.size _start, . - _start
	program_stubs
	stub _thread_sys_pinsyscalls, 05, 158
#endif
	openbsd_ident
