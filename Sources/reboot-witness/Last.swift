import ArgumentParser
import WitnessArm
import WitnessReport
import WitnessStore

struct Last: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "last",
        abstract: "How the previous boot ended (or every boot, with --list), with the evidence for and against.",
        discussion: """
            Works on a host where the witness was never armed: it reads the witness store where \
            there is one, pstore, the journal (sd-journal, indexed queries only), rsyslog's text \
            files for boots the journal lacks (their lines are claims: confidence stays at medium \
            or below), the audit log (libauparse), wtmp, the watchdogs' boot status, and this boot's kernel log (file \
            system recovery means the previous boot did not stop cleanly). Without the witness it \
            can name a person (sudo, ssh), a service, the power key, a panic, a watchdog or a \
            reset, never a container or a process that called reboot(2) directly, and its \
            confidence stays at medium or below. Nothing is created or changed.

            Each piece of evidence is marked + (supports the verdict), - (contradicts it) or \
            a middle dot (a note: a source that had nothing for that boot).

            EXAMPLES:
              reboot-witness last
              reboot-witness last --list                      every boot, newest first
              reboot-witness last --list --json | jq -r '[.boot_id, .bootstat] | @tsv'
              reboot-witness last --json | jq -r .bootstat
              reboot-witness last --boot 3                    three boots ago
              reboot-witness last --boot 1/0                  the previous boot until its first soft reboot
              reboot-witness last --check                     exit 0 if it ended as intended
              reboot-witness last --journal-dir /mnt/var/log/journal   a copied journal
              reboot-witness last --syslog-dir /mnt/var/log   another host's /var/log/messages, secure…
            """
    )

    @Option(help: ArgumentHelp("Store directory.", valueName: "DIR"))
    var store: String = StoreDirectory.defaultPath

    @Option(help: ArgumentHelp("Which boot: 1 (or -1) is the previous one, 2 the one before it, and so on; or a boot id (a unique prefix of 8 hex digits or more will do). N/S or ID/S: the part of that boot a soft reboot ended, S being systemd's SoftRebootsCount during it (0/0: the running boot until its first soft reboot), as `--list` shows them.",
                               valueName: "N|ID[/S]"))
    var boot: String = "1"

    @Flag(help: "One line per boot, newest first: start, last sign of life, how it ended, confidence, initiator.")
    var list = false

    @Option(help: ArgumentHelp("With --list, only the newest N boots.", valueName: "N"))
    var count: Int?

    @Flag(help: "JSON: one object (with --list, one object per line).")
    var json = false

    @Option(help: ArgumentHelp("Read the journal files in DIR instead of this host's journal. A DIR without the running boot is taken as another host's (a copy of its /var/log/journal): this boot's kernel log and watchdogs are then not consulted.",
                               valueName: "DIR"))
    var journalDir: String?

    @Option(help: ArgumentHelp("The audit log's directory.", valueName: "DIR"))
    var auditDir: String = "/var/log/audit"

    @Option(help: ArgumentHelp("The wtmp file.", valueName: "FILE"))
    var wtmp: String = "/var/log/wtmp"

    @Flag(help: "Do not read the journal.")
    var noJournal = false

    @Option(help: ArgumentHelp("rsyslog's text files (messages, secure, syslog, auth.log, kern.log and their rotations), read for boots the journal does not have (RHEL's volatile journal).",
                               valueName: "DIR"))
    var syslogDir: String = "/var/log"

    @Flag(help: "Do not read text syslog files.")
    var noSyslog = false

    @Flag(help: "node-problem-detector's custom plugin protocol: one line; exit 0 when the boot ended as intended (a graceful reboot someone known asked for), 1 when not (reset, panic, watchdog, OOM, unknown), 2 when it cannot tell.")
    var check = false

    func validate() throws {
        guard LastReport.Target(boot) != nil else {
            throw ValidationError("--boot counts back from the current boot (1 or more) or names a boot id (8 hex digits at least), "
                                  + "optionally with /S for the part a soft reboot ended (0/S for the running boot's)")
        }
        if let count, count < 1 { throw ValidationError("--count takes a number of boots: 1 or more") }
        if count != nil && !list { throw ValidationError("--count goes with --list") }
        if check && (list || json) { throw ValidationError("--check prints one line; it does not go with --list or --json") }
    }

    func run() throws {
        var locations = HostEvidence.Locations()
        locations.store = store
        locations.journalDirectory = journalDir
        locations.readJournal = !noJournal
        locations.auditDirectory = auditDir
        locations.wtmp = wtmp
        locations.syslogDirectory = noSyslog ? nil : syslogDir
        switch LastReport.Target(boot)!.boot {
        case .back(let n) where !list: locations.syslogBoots = n + 1
        default: locations.syslogBoots = list ? count.map { $0 + 1 } : nil
        }
        let host = HostEvidence(locations)
        if list {
            let lines = LastReport.list(host: host, count: count)
            if json {
                lines.forEach { print(RecordFormatter.json($0)) }
            } else {
                LastReport.human(lines).forEach(emit)
            }
            let damage = host.journalDamageNote()
            if !damage.isEmpty { printError("reboot-witness: " + damage.dropFirst(2)) }
            return
        }
        let result = LastReport.verdict(LastReport.Target(boot)!, host: host)
        if check {
            let (status, line) = LastReport.check(result)
            emit(line)  // node-problem-detector reads exactly one line
            throw ExitCode(status)
        }
        switch result {
        case .success(let verdict):
            if json {
                print(RecordFormatter.json(verdict))
            } else {
                LastReport.human(verdict).forEach(emit)
            }
        case .failure(let error):
            throw CommandFailure(error)
        }
    }
}
