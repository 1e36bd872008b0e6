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
	.globl _start
	.type _start,%function
	.ent _start
_start:
	bal _thread_sys_getpid
	nop
	bal _thread_sys_write
	nop
	li $4, 0
	li $2, 1
	trapsite 00, 1			/* inline exit from the startup code */
	syscall
	break
	.end _start
	.size _start, . - _start
	program_stubs
#endif
	openbsd_ident
