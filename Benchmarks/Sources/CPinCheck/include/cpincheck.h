// The C twin of SysPinCore's PinCheck.check (§7.2 of SPEC.md, and the strict policy's exact
// site set, D-STRICT): the same region selection, the same pins[] index and compare, the same
// two-slot cuckoo lookup. It exists only to measure the Swift check against it (ci/bench).
#ifndef CPINCHECK_H
#define CPINCHECK_H

#include <stddef.h>
#include <stdint.h>

/// One slot of the strict set; `sysno == UINT32_MAX` marks an empty slot (Swift's ExactSite).
typedef struct {
    uint32_t sysno;
    uint64_t rel;
} cpin_site;

typedef struct {
    uint64_t start, end;
    const uint32_t *pins;
    size_t npins;
    /// Strict set: 0 slots for none.
    const cpin_site *slots;
    size_t slot_mask;
    size_t nslots;
    uint64_t seed;
} cpin_region;

// 0 when allowed; otherwise the errno (78 ENOSYS, 1 EPERM) the kill carries. Defined here,
// static inline, so the benchmark loop can inline it exactly as it inlines the Swift check.
#define SYS_SIGRETURN 103u
#define MULTIPLE_SITES 0xFFFFFFFFu
#define ENOSYS_ 78
#define EPERM_ 1

static inline const cpin_region *cpin_choose(const cpin_region *libc, const cpin_region *main_, uint64_t addr) {
    if (libc && libc->start <= addr && addr < libc->end) return libc;
    if (main_ && main_->start <= addr && addr < main_->end) return main_;
    return 0;
}

static inline int cpin_check_openbsd(const cpin_region *libc, const cpin_region *main_, int has_tramp, uint64_t tramp,
                       uint64_t addr, uint32_t code, uint64_t mask) {
    const cpin_region *r = cpin_choose(libc, main_, addr);
    if (!r) {
        if (has_tramp && tramp == addr) return code == SYS_SIGRETURN ? 0 : EPERM_;
        return ENOSYS_;
    }
    if (code >= r->npins) return ENOSYS_;
    uint32_t v = r->pins[code];
    if (v == 0) return ENOSYS_;
    if (((r->start + (uint64_t)v) & mask) == addr) return 0;
    if (v == MULTIPLE_SITES) return 0;
    return ENOSYS_;
}

static inline void cpin_positions(uint32_t sysno, uint64_t rel, uint64_t seed, size_t mask, size_t *a, size_t *b) {
    uint64_t h = (rel * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)sysno + seed);
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    *a = (size_t)h & mask;
    *b = (size_t)(h >> 32) & mask;
    if (*b == *a) *b = *a ^ 1;
}

static inline int cpin_check_strict(const cpin_region *libc, const cpin_region *main_, int has_tramp, uint64_t tramp,
                      uint64_t addr, uint32_t code, uint64_t mask) {
    const cpin_region *r = cpin_choose(libc, main_, addr);
    if (!r) {
        if (has_tramp && tramp == addr) return code == SYS_SIGRETURN ? 0 : EPERM_;
        return ENOSYS_;
    }
    if (r->nslots == 0 || code == UINT32_MAX) return ENOSYS_;  /* UINT32_MAX marks an empty slot */
    uint64_t rel = (addr - r->start) & mask;
    size_t a, b;
    cpin_positions(code, rel, r->seed, r->slot_mask, &a, &b);
    if (r->slots[a].sysno == code && r->slots[a].rel == rel) return 0;
    if (r->slots[b].sysno == code && r->slots[b].rel == rel) return 0;
    return ENOSYS_;
}

/// Out-of-line copies (cpincheck.c), for callers that want a call boundary.
int cpin_check_openbsd_outlined(const cpin_region *libc, const cpin_region *main_, int has_tramp, uint64_t tramp,
                                uint64_t addr, uint32_t code, uint64_t mask);

#endif
