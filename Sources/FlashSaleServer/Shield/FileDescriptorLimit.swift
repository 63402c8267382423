#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's open-file limit (`RLIMIT_NOFILE`): every connection holds a descriptor,
/// so the soft limit is raised towards the hard one to fit `--max-connections`, as nginx's
/// `worker_rlimit_nofile` does.
public enum FileDescriptorLimit {
    /// Descriptors kept for everything that is not a client connection (database, files,
    /// the provider's connection pool).
    public static let reserve = 512

    /// Raises the soft limit to fit `connections` plus `reserve`, within the hard limit.
    /// - Returns: the limits in force afterwards.
    @discardableResult
    public static func raise(toFit connections: Int) -> (soft: Int, hard: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (0, 0) }
        let wanted = rlim_t(connections + reserve)
        if limit.rlim_cur < wanted {
            var raised = limit
            raised.rlim_cur = min(wanted, limit.rlim_max)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return (Int(clamping: limit.rlim_cur), Int(clamping: limit.rlim_max))
    }
}
