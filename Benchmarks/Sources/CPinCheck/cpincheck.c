#include "cpincheck.h"

int cpin_check_openbsd_outlined(const cpin_region *libc, const cpin_region *main_, int has_tramp, uint64_t tramp,
                                uint64_t addr, uint32_t code, uint64_t mask) {
    return cpin_check_openbsd(libc, main_, has_tramp, tramp, addr, code, mask);
}
