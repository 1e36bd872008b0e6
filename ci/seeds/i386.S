/* i386 seed: lib/libc/arch/i386/SYS.h style stubs (movl $n,%eax; int $0x80). */
#include "pin.inc"

.macro stub name, seq, sysno
	.globl \name
	.type \name,%function
\name:
	movl $\sysno, %eax
	trapsite \seq, \sysno
	int $0x80
	jc 1f
	ret
1:	movl $-1, %eax
	ret
	.size \name, . - \name
.endm

	.text
#ifdef SEED_SHARED
	stub _thread_sys_read, 00, 3
	stub _thread_sys_write, 01, 4
	stub _thread_sys_getpid, 02, 20
	stub _thread_sys_execve, 03, 59
	stub _thread_sys_kbind, 04, 86
	stub read, 05, 3		/* second site for SYS_read */
	stub _thread_sys_exit, 06, 1
#else
	.globl _start
	.type _start,%function
_start:
	call _thread_sys_write
	call _thread_sys_getpid
	pushl $0
	movl $1, %eax
	trapsite 00, 1			/* inline exit from the startup code */
	int $0x80
	hlt
	.size _start, . - _start
	stub _thread_sys_write, 01, 4
	stub _thread_sys_getpid, 02, 20
	stub _thread_sys_exit, 03, 1	/* second site for SYS_exit */
	stub _thread_sys_open, 04, 5
#endif
	openbsd_ident
