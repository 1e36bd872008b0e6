/// System-call names by number (sys/sys/syscall.h 1.268, SYS_MAXSYSCALL 331), for reports only.
/// An empty string marks an obsolete or unassigned number.
public enum SyscallNames {
    static let table: [String] = [
        "", "exit", "fork", "read", "write", "open", "close", "getentropy", "__tfork", "link",
        "unlink", "wait4", "chdir", "fchdir", "mknod", "chmod", "chown", "break", "getdtablecount",
        "getrusage", "getpid", "mount", "unmount", "setuid", "getuid", "geteuid", "ptrace", "recvmsg",
        "sendmsg", "recvfrom", "accept", "getpeername", "getsockname", "access", "chflags", "fchflags",
        "sync", "msyscall", "stat", "getppid", "lstat", "dup", "fstatat", "getegid", "profil",
        "ktrace", "sigaction", "getgid", "sigprocmask", "mmap", "setlogin", "acct", "sigpending",
        "fstat", "ioctl", "reboot", "revoke", "symlink", "readlink", "execve", "umask", "chroot",
        "getfsstat", "statfs", "fstatfs", "fhstatfs", "vfork", "gettimeofday", "settimeofday",
        "setitimer", "getitimer", "select", "kevent", "munmap", "mprotect", "madvise", "utimes",
        "futimes", "mquery", "getgroups", "setgroups", "getpgrp", "setpgid", "futex", "utimensat",
        "futimens", "kbind", "clock_gettime", "clock_settime", "clock_getres", "dup2", "nanosleep",
        "fcntl", "accept4", "__thrsleep", "fsync", "setpriority", "socket", "connect", "getdents",
        "getpriority", "pipe2", "dup3", "sigreturn", "bind", "setsockopt", "listen", "chflagsat",
        "pledge", "ppoll", "pselect", "sigsuspend", "sendsyslog", "", "unveil", "__realpath",
        "recvmmsg", "sendmmsg", "getsockopt", "thrkill", "readv", "writev", "kill", "fchown", "fchmod",
        "", "setreuid", "setregid", "rename", "", "", "flock", "mkfifo", "sendto", "shutdown",
        "socketpair", "mkdir", "rmdir", "", "", "adjtime", "getlogin_r", "getthrname", "setthrname",
        "", "", "pinsyscall", "setsid", "quotactl", "", "ypconnect", "", "", "", "", "nfssvc", "", "",
        "pinsyscalls", "mimmutable", "waitid", "getfh", "", "", "__tmpfd", "sysarch", "lseek",
        "truncate", "ftruncate", "pread", "pwrite", "preadv", "pwritev", "", "", "", "", "", "", "",
        "", "setgid", "setegid", "seteuid", "", "", "", "", "", "", "", "pathconf", "fpathconf",
        "swapctl", "getrlimit", "setrlimit", "", "", "", "", "", "", "sysctl", "mlock", "munlock", "",
        "", "getpgid", "", "utrace", "", "", "", "", "", "", "", "", "", "", "", "semget", "", "", "",
        "msgget", "msgsnd", "msgrcv", "shmat", "", "shmdt", "", "", "", "", "", "", "", "", "", "", "",
        "", "", "", "", "", "", "", "", "minherit", "", "poll", "issetugid", "lchown", "getsid",
        "msync", "", "", "", "", "", "", "pipe", "fhopen", "", "", "", "", "kqueue", "kqueue1",
        "mlockall", "munlockall", "", "", "", "", "", "", "", "", "getresuid", "setresuid",
        "getresgid", "setresgid", "", "", "closefrom", "sigaltstack", "shmget", "semop", "", "", "",
        "fhstat", "__semctl", "shmctl", "msgctl", "sched_yield", "getthrid", "", "__thrwakeup",
        "__threxit", "__thrsigdivert", "__getcwd", "adjfreq", "", "", "", "", "setrtable", "getrtable",
        "", "faccessat", "fchmodat", "fchownat", "", "linkat", "mkdirat", "mkfifoat", "mknodat",
        "openat", "readlinkat", "renameat", "symlinkat", "unlinkat", "", "", "", "__set_tcb",
        "__get_tcb"
    ]

    /// The name of `sysno`, or nil for an unassigned number.
    public static func name(_ sysno: UInt32) -> String? {
        guard Int(sysno) < table.count, !table[Int(sysno)].isEmpty else { return nil }
        return table[Int(sysno)]
    }

    /// "getpid(20)", or "#999" when unnamed.
    public static func label(_ sysno: UInt32) -> String {
        name(sysno).map { "\($0)(\(sysno))" } ?? "#\(sysno)"
    }
}
