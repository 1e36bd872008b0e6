/*
 * sparc64 seed: lib/libc/arch/sparc64/SYS.h style stubs
 * (mov n,%g1; t ST_SYSCALL, with ST_SYSCALL = 0, i.e. "ta 0" = 0x91d02000).
 *
 * This file is GNU as syntax for sparc64-*-openbsd, but the LLVM toolchain
 * used by ci/make-seeds has no SPARC backend, so ci/seeds/seedtool.py
 * ("sparc64-as") assembles it instead: it runs on the preprocessed file,
 * skips the .macro definitions, and understands ONLY the top-level lines
 * ".text", "startup SEQ", "stub NAME, SEQ, SYSNO", "openbsd_ident" and
 * pin.inc's program_stubs (a macro of stub lines, expanded),
 * emitting exactly the instruction words of the macros below. Keep the two
 * in sync when editing. The linking is done by the real ld.lld.
 */
#include "pin.inc"

.macro stub name, seq, sysno
	.globl \name
	.type \name,#function
\name:
	mov \sysno, %g1			/* 0x82102000 | sysno */
	trapsite \seq, \sysno
	t 0				/* 0x91d02000 */
	retl				/* 0x81c3e008 */
	 nop				/* 0x01000000 */
	.size \name, . - \name
.endm

/* _start: call getpid and write, then exit inline (a second SYS_exit site) */
.macro startup seq
	.globl _start
	.type _start,#function
_start:
	call _thread_sys_getpid		/* 0x40000000, R_SPARC_WDISP30 */
	 nop
	call _thread_sys_write		/* 0x40000000, R_SPARC_WDISP30 */
	 nop
	clr %o0				/* 0x90100000 */
	mov 1, %g1			/* 0x82102001 */
	trapsite \seq, 1
	t 0				/* 0x91d02000 */
	illtrap 0			/* 0x00000000 */
	.size _start, . - _start
.endm

	.text
#ifdef SEED_SHARED
	stub _thread_sys_write, 00, 4
	stub _thread_sys_open, 01, 5
	stub _thread_sys_getpid, 02, 20
	stub _thread_sys_kbind, 03, 86
	stub _thread_sys_execve, 04, 59
	stub write, 05, 4		/* second site for SYS_write */
	stub _thread_sys_sigreturn, 06, 103
#else
	startup 00			/* inline exit from the startup code */
	program_stubs
	stub _thread_sys_pinsyscalls, 05, 158
#endif
	openbsd_ident
