/* amd64 seed: lib/libc/arch/amd64/SYS.h style stubs (movl $n,%eax; syscall). */
#include "pin.inc"

.macro stub name, seq, sysno
	.globl \name
	.type \name,%function
\name:
	movl $\sysno, %eax
	movq %rcx, %r10
	trapsite \seq, \sysno
	syscall
	jc 1f
	ret
1:	movl $-1, %eax
	ret
	.size \name, . - \name
.endm

	.text
#ifdef SEED_SHARED
	stub _thread_sys_write, 00, 4
	stub _thread_sys_open, 01, 5
	stub _thread_sys_getpid, 02, 20
	stub _thread_sys_execve, 03, 59
	stub write, 04, 4		/* second site for SYS_write */
	stub _thread_sys_kbind, 05, 86
	stub _thread_sys_sigreturn, 06, 103
	stub _thread_sys_close, 07, 6
#else
	.globl _start
	.type _start,%function
_start:
	call _thread_sys_getpid
	call _thread_sys_write
	xorl %edi, %edi
	movl $1, %eax
	trapsite 00, 1			/* inline exit from the startup code */
	syscall
	hlt
	.size _start, . - _start
	stub _thread_sys_getpid, 01, 20
	stub _thread_sys_write, 02, 4
	stub _thread_sys_execve, 03, 59
	stub _thread_sys_exit, 04, 1	/* second site for SYS_exit */
	stub _thread_sys_pinsyscalls, 05, 158
#endif
	openbsd_ident
