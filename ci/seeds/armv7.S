/* armv7 seed: lib/libc/arch/arm/SYS.h style stubs
 * (mov r12,#n; swi 0; dsb nsh; isb -- the kernel skips the barrier). */
#include "pin.inc"

	.syntax unified
	.arm

.macro stub name, seq, sysno
	.globl \name
	.type \name,%function
\name:
	mov r12, #\sysno
	trapsite \seq, \sysno
	swi 0
	dsb nsh
	isb
	mvncs r0, #0
	bx lr
	.size \name, . - \name
.endm

	.text
#ifdef SEED_SHARED
	stub _thread_sys_write, 00, 4
	stub _thread_sys_open, 01, 5
	stub _thread_sys_kbind, 02, 86
	stub _thread_sys_getpid, 03, 20
	stub write, 04, 4		/* second site for SYS_write */
	stub _thread_sys_execve, 05, 59
#else
	.globl _start
	.type _start,%function
_start:
	bl _thread_sys_getpid
	bl _thread_sys_write
	mov r0, #0
	mov r12, #1
	trapsite 00, 1			/* inline exit from the startup code */
	swi 0
	dsb nsh
	isb
	udf #0
	.size _start, . - _start
	program_stubs
#endif
	openbsd_ident
