/* switch_aarch64.S: the goroutine context switch for AArch64 (AAPCS64).
 * gpy__ctx_switch(void **save_sp, void *new_sp) saves x19-x30, d8-d15 and
 * fpcr on the current stack, stores sp in *save_sp and resumes new_sp. */
    .text
    .globl gpy__ctx_switch
    .hidden gpy__ctx_switch
    .type gpy__ctx_switch, %function
gpy__ctx_switch:
    sub sp, sp, #176
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mrs x9, fpcr
    str x9, [sp, #160]
    mov x9, sp
    str x9, [x0]
    mov sp, x1
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    ldr x9, [sp, #160]
    msr fpcr, x9
    add sp, sp, #176
    ret
    .size gpy__ctx_switch, .-gpy__ctx_switch

/* gpy__ctx_start: first entry of a new context; x19 = entry, x20 = arg. */
    .globl gpy__ctx_start
    .hidden gpy__ctx_start
    .type gpy__ctx_start, %function
gpy__ctx_start:
    mov x0, x20
    mov x29, #0
    blr x19
    brk #0
    .size gpy__ctx_start, .-gpy__ctx_start

    .section .note.GNU-stack,"",%progbits
