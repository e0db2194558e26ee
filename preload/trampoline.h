/* Pieces of the shim's assembly trampolines (vfork.c: vfork, clone;
 * wrap-syscall.c: syscall): exported functions that call one C "prepare"
 * function and then jump to libc's real one, with the stack and every
 * argument register as the caller left them. String literals, to be pasted
 * into a top-level __asm__ between ".pushsection .text" and ".popsection".
 *
 * SHIM_TRAMP_BEGIN(name) / SHIM_TRAMP_END(name): the symbol, its CFI and
 * its landing pad (endbr64 with CET, `bti c` on arm64).
 * SHIM_TRAMP_SAVE / SHIM_TRAMP_RESTORE: around a call of a variadic
 * function's prepare, every argument register (x86-64: and %al, the vector
 * register count) kept; after RESTORE the prepare's result, the address to
 * jump to, is in %r11 (x86-64) or x16 (arm64: the one register, with x17,
 * that BTI lets an indirect `br` land on a `bti c` from). */
#pragma once

#if defined(__x86_64__)

#if defined(__CET__) && (__CET__ & 1)
#define SHIM_ENDBR "endbr64\n\t"
#else
#define SHIM_ENDBR ""
#endif

#define SHIM_TRAMP_BEGIN(name)                                                \
	".globl " name "\n\t"                                                 \
	".type " name ", @function\n\t"                                       \
	".p2align 4\n"                                                        \
	name ":\n\t"                                                          \
	".cfi_startproc\n\t"                                                  \
	SHIM_ENDBR

#define SHIM_TRAMP_END(name)                                                  \
	".cfi_endproc\n\t"                                                    \
	".size " name ", .-" name "\n\t"

#define SHIM_PUSH(reg) "pushq " reg "\n\t.cfi_adjust_cfa_offset 8\n\t"
#define SHIM_POP(reg) "popq " reg "\n\t.cfi_adjust_cfa_offset -8\n\t"

/* Seven pushes: on entry %rsp is 8 mod 16 (the return address), so the
 * call after them is aligned. The 7th argument, on the stack, is not
 * touched. */
#define SHIM_TRAMP_SAVE                                                       \
	SHIM_PUSH("%rdi") SHIM_PUSH("%rsi") SHIM_PUSH("%rdx") SHIM_PUSH("%rcx") \
	SHIM_PUSH("%r8") SHIM_PUSH("%r9") SHIM_PUSH("%rax")

#define SHIM_TRAMP_RESTORE                                                    \
	"movq %rax, %r11\n\t"                                                 \
	SHIM_POP("%rax") SHIM_POP("%r9") SHIM_POP("%r8") SHIM_POP("%rcx")     \
	SHIM_POP("%rdx") SHIM_POP("%rsi") SHIM_POP("%rdi")

#elif defined(__aarch64__)

/* `hint 34` is `bti c`, a no-op without BTI. */
#define SHIM_TRAMP_BEGIN(name)                                                \
	".globl " name "\n\t"                                                 \
	".type " name ", %function\n\t"                                       \
	".p2align 2\n"                                                        \
	name ":\n\t"                                                          \
	".cfi_startproc\n\t"                                                  \
	"hint 34\n\t"

#define SHIM_TRAMP_END(name)                                                  \
	".cfi_endproc\n\t"                                                    \
	".size " name ", .-" name "\n\t"

/* x0-x7 in a frame of 80 bytes with the frame record. */
#define SHIM_TRAMP_SAVE                                                       \
	"stp x29, x30, [sp, #-80]!\n\t"                                       \
	".cfi_def_cfa_offset 80\n\t"                                          \
	".cfi_offset 29, -80\n\t"                                             \
	".cfi_offset 30, -72\n\t"                                             \
	"mov x29, sp\n\t"                                                     \
	"stp x0, x1, [sp, #16]\n\t"                                           \
	"stp x2, x3, [sp, #32]\n\t"                                           \
	"stp x4, x5, [sp, #48]\n\t"                                           \
	"stp x6, x7, [sp, #64]\n\t"

#define SHIM_TRAMP_RESTORE                                                    \
	"mov x16, x0\n\t"                                                     \
	"ldp x0, x1, [sp, #16]\n\t"                                           \
	"ldp x2, x3, [sp, #32]\n\t"                                           \
	"ldp x4, x5, [sp, #48]\n\t"                                           \
	"ldp x6, x7, [sp, #64]\n\t"                                           \
	"ldp x29, x30, [sp], #80\n\t"                                         \
	".cfi_restore 29\n\t"                                                 \
	".cfi_restore 30\n\t"                                                 \
	".cfi_def_cfa_offset 0\n\t"

#endif
