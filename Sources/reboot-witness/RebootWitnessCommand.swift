import ArgumentParser
import WitnessArm
import WitnessReport
import WitnessModel

@main
struct RebootWitnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reboot-witness",
        abstract: "Witness who or what restarts, halts or powers off this machine.",
        discussion: """
            Arm it on a host that reboots "by itself". It attaches BPF programs to every \
            kernel path that restarts, halts or powers off, records the caller (process, \
            exe, users, login session, cgroup, container, PID namespace, ancestry, kernel \
            stack) and makes each record durable before the machine goes down. `last` \
            answers from what the host kept even where the witness was never armed.

            EXAMPLES:
              reboot-witness last                        how the previous boot ended
              reboot-witness last --list                 every boot, newest first
              reboot-witness status                      what this kernel allows
              reboot-witness arm                         arm on /var/lib/reboot-witness
              reboot-witness arm --json | jq .comm       live records as NDJSON
              reboot-witness dump --boot previous        every record of the previous boot
              reboot-witness dump --json --boot all | jq 'select(.container != null)'
              reboot-witness preflight                   will the next boot mount root?
              reboot-witness disarm                      stop arm, undo --reboot2panic
            """,
        version: Version.string,
        // Each names itself (commandName): ArgumentParser would otherwise derive the name with
        // String(describing:), whose casts scan every protocol conformance in the binary, at every start.
        subcommands: [Arm.self, Status.self, Dump.self, Last.self, Preflight.self, Disarm.self]
    )

    /// `arm` starts with the service, and each restart of it is a gap in what
    /// reaches the store: its own arguments are parsed by `Arm` alone. The
    /// root's parse first builds the arguments of every subcommand and of the
    /// completion-script request, by reflection (~2 ms of a ~9 ms re-arm).
    /// Whatever `Arm` alone does not take (`--help`, a mistake, a completion
    /// request) goes to the root's parse, which reports it as it always did.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.first == Arm.configuration.commandName,
              let arm = try? Arm.parseAsRoot(Array(arguments.dropFirst())) as? Arm else {
            return main(nil)
        }
        do {
            try arm.run()
        } catch {
            exit(withError: error)
        }
    }
}
