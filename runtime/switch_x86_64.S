/* switch_x86_64.S: the goroutine context switch for x86-64 System V.
 * gpy__ctx_switch(void **save_sp, void *new_sp) saves the callee-saved
 * registers and FPU control words on the current stack, stores the stack
 * pointer in *save_sp and resumes the context whose stack pointer is new_sp. */
    .text
    .globl gpy__ctx_switch
    .hidden gpy__ctx_switch
    .type gpy__ctx_switch, @function
gpy__ctx_switch:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size gpy__ctx_switch, .-gpy__ctx_switch

/* gpy__ctx_start is where a new context first "returns" to: r12 holds the
 * entry function, r13 its argument. The entry function never returns. */
    .globl gpy__ctx_start
    .hidden gpy__ctx_start
    .type gpy__ctx_start, @function
gpy__ctx_start:
    .cfi_startproc
    .cfi_undefined rip
    movq %r13, %rdi
    andq $-16, %rsp
    xorl %ebp, %ebp
    callq *%r12
    ud2
    .cfi_endproc
    .size gpy__ctx_start, .-gpy__ctx_start

    .section .note.GNU-stack,"",@progbits
