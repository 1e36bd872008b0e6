/* arm64 seed: lib/libc/arch/aarch64/SYS.h style stubs
 * (mov x8,#n; svc 0; dsb nsh; isb -- the kernel skips the barrier). */
#include "pin.inc"

.macro stub name, seq, sysno
	.globl \name
	.type \name,%function
\name:
	mov x8, #\sysno
	trapsite \seq, \sysno
	svc 0
	dsb nsh
	isb
	b.cs 1f
	ret
1:	mov x0, #-1
	ret
	.size \name, . - \name
.endm

	.text
#ifdef SEED_SHARED
	stub _thread_sys_write, 00, 4
	stub _thread_sys_close, 01, 6
	stub _thread_sys_getpid, 02, 20
	stub _thread_sys_kbind, 03, 86
	stub _thread_sys_execve, 04, 59
	stub _thread_sys_mmap, 05, 49
	stub write, 06, 4		/* second site for SYS_write */
	stub _thread_sys_sigreturn, 07, 103
	stub _thread_sys_exit, 08, 1
#else
	.globl _start
	.type _start,%function
_start:
	bl _thread_sys_getpid
	bl _thread_sys_write
	mov x0, #0
	mov x8, #1
	trapsite 00, 1			/* inline exit from the startup code */
	svc 0
	dsb nsh
	isb
	brk #0
	.size _start, . - _start
	program_stubs
	stub _thread_sys_pinsyscalls, 05, 158
#endif
	openbsd_ident
