/* powerpc seed: lib/libc/arch/powerpc/SYS.h style stubs (li 0,n; sc). */
#include "pin.inc"

#include "powerpc.inc"

	.text
#ifdef SEED_SHARED
	stub _thread_sys_write, 00, 4
	stub _thread_sys_open, 01, 5
	stub _thread_sys_getpid, 02, 20
	stub _thread_sys_kbind, 03, 86
	stub write, 04, 4		/* second site for SYS_write */
	stub _thread_sys_execve, 05, 59
#else
	.globl _start
	.type _start,%function
_start:
	bl _thread_sys_getpid
	bl _thread_sys_write
	li 3, 0
	li 0, 1
	trapsite 00, 1			/* inline exit from the startup code */
	sc
	trap
	.size _start, . - _start
	program_stubs
#endif
	openbsd_ident
