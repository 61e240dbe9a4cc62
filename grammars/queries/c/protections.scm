; Names that can protect a pin from fork(): vma flags and madvise advice set in the kernel, and mmu notifier ops types.
; Whether a use sets or clears the flag is decided in analysis/protections.ts.
((identifier) @protection.flag
  (#any-of? @protection.flag "VM_DONTCOPY" "VM_WIPEONFORK" "MADV_DONTFORK" "MADV_WIPEONFORK"))

(struct_specifier
  name: (type_identifier) @protection.notifierOps
  (#any-of? @protection.notifierOps "mmu_notifier_ops" "mmu_interval_notifier_ops"))
