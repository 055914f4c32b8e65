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

    private static func spawn(_ argv: [String], stdout: Int32?, reading: Int32? = nil,
                              limit: Int = 0) -> (status: Int32, output: [UInt8]) {
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
        if let reading {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while spawned == 0 {
                let n = read(reading, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                if output.count < limit { output += buffer.prefix(n) }
            }
            close(reading)
        }
        guard spawned == 0 else { return (-1, []) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return ((status & 0x7f) == 0 ? (status >> 8) & 0xff : -1, output)
    }
}
