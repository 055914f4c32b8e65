import Glibc

/// Other programs (modprobe, journalctl), run without a shell.
public enum Subprocess {
    /// Exit status of `argv` (PATH searched), or -1 if it could not run or was killed.
    public static func run(_ argv: [String]) -> Int32 {
        spawn(argv, stdout: nil).status
    }

    /// Standard output of `argv` when it exits 0, else nil.
    public static func capture(_ argv: [String], limit: Int = 64 << 20) -> String? {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        let result = spawn(argv, stdout: fds[1], reading: fds[0], limit: limit)
        return result.status == 0 ? String(decoding: result.output, as: UTF8.self) : nil
    }

    /// What a bounded run gave: its exit status (-1 if it could not run or
    /// was killed), its standard output (to `limit` bytes), and whether the
    /// deadline killed it.
    public struct Bounded: Sendable {
        public var status: Int32
        public var output: [UInt8]
        public var timedOut: Bool
    }

    /// Runs `argv` for `timeoutSeconds` at most (SIGKILL then), capturing standard output.
    public static func run(_ argv: [String], timeoutSeconds: Double, limit: Int = 16 << 20) -> Bounded {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return Bounded(status: -1, output: [], timedOut: false) }
        // Only the child's copy of the write end may stay open elsewhere (arm runs other threads).
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)  // dup2 onto the child's stdout clears it there
        return spawn(argv, stdout: fds[1], reading: fds[0], limit: limit, timeoutSeconds: timeoutSeconds)
    }

    private static func spawn(_ argv: [String], stdout: Int32?, reading: Int32? = nil,
                              limit: Int = 0) -> (status: Int32, output: [UInt8]) {
        let result = spawn(argv, stdout: stdout, reading: reading, limit: limit, timeoutSeconds: nil)
        return (result.status, result.output)
    }

    private static func spawn(_ argv: [String], stdout: Int32?, reading: Int32?, limit: Int,
                              timeoutSeconds: Double?) -> Bounded {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdout, let reading {
            posix_spawn_file_actions_adddup2(&actions, stdout, 1)
            posix_spawn_file_actions_addclose(&actions, reading)
        }
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        let spawned = posix_spawnp(&pid, argv[0], &actions, nil, cArgs, environ)
        if let stdout { close(stdout) }
        var output: [UInt8] = []
        var timedOut = false
        if let reading {
            let deadline = timeoutSeconds.map { SystemCalls.clocks().boottime + Int64($0 * 1e9) }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while spawned == 0 {
                if let deadline {
                    let left = deadline - SystemCalls.clocks().boottime
                    var poller = pollfd(fd: reading, events: Int16(POLLIN), revents: 0)
                    if left <= 0 || poll(&poller, 1, Int32(max(0, left / 1_000_000))) == 0 {
                        kill(pid, SIGKILL)
                        timedOut = true
                        break
                    }
                }
                let n = read(reading, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                if output.count < limit { output += buffer.prefix(n) }
            }
            close(reading)
        }
        guard spawned == 0 else { return Bounded(status: -1, output: [], timedOut: false) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return Bounded(status: (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1, output: output, timedOut: timedOut)
    }
}
