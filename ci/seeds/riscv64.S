/* riscv64 seed: lib/libc/arch/riscv64/SYS.h style stubs (li t0,n; ecall). */
#include "pin.inc"

.macro stub name, seq, sysno
	.globl \name
	.type \name,%function
\name:
	li t0, \sysno
	trapsite \seq, \sysno
	ecall
	bnez t0, 1f
	ret
1:	li a0, -1
	ret
	.size \name, . - \name
.endm

	.text
#ifdef SEED_SHARED
	stub _thread_sys_exit, 00, 1
	stub _thread_sys_write, 01, 4
	stub _thread_sys_getpid, 02, 20
	stub _thread_sys_kbind, 03, 86
	stub _thread_sys_execve, 04, 59
	stub _thread_sys_getpid_again, 05, 20	/* second site for SYS_getpid */
	stub _thread_sys_munmap, 06, 73
#else
	.globl _start
	.type _start,%function
_start:
	call _thread_sys_getpid
	call _thread_sys_write
	li a0, 0
	li t0, 1
	trapsite 00, 1			/* inline exit from the startup code */
	ecall
	unimp
	.size _start, . - _start
	program_stubs
	stub _thread_sys_pinsyscalls, 05, 158
#endif
	openbsd_ident
