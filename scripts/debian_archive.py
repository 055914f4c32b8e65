"""Debian's archive through a private apt configuration: its own sources
list, lists and cache under a directory of ours, never the machine's own
sources (which name bookworm only). Used by scripts/package (Debian 11's libc
as a sysroot, ISA-L's source) and scripts/vm-test (kernels of other suites)."""
import os
import subprocess

MIRROR = "http://deb.debian.org/debian"
SECURITY = "http://deb.debian.org/debian-security"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def sources(suite, source_packages=False):
    """A sources list for `suite` with its updates and security suites where it has them."""
    kind = "deb-src" if source_packages else "deb"
    lines = [f"{kind} [signed-by={KEYRING}] {MIRROR} {suite} main"]
    if suite not in ("sid", "unstable", "experimental"):
        lines.append(f"{kind} [signed-by={KEYRING}] {MIRROR} {suite}-updates main")
        lines.append(f"{kind} [signed-by={KEYRING}] {SECURITY} {suite}-security main")
    return "\n".join(lines) + "\n"


class Archive:
    """apt-get and apt-cache on a private configuration in `directory`, updated once."""

    def __init__(self, directory, source_list):
        self.directory = directory
        os.makedirs(os.path.join(directory, "lists", "partial"), exist_ok=True)
        os.makedirs(os.path.join(directory, "cache", "archives", "partial"), exist_ok=True)
        self.list = os.path.join(directory, "sources.list")
        changed = not os.path.exists(self.list) or open(self.list).read() != source_list
        with open(self.list, "w") as f:
            f.write(source_list)
        if changed or not any(n.endswith("InRelease") for n in os.listdir(os.path.join(directory, "lists"))):
            self.run("apt-get", "update")

    def argv(self, tool, *args):
        return [tool, "-o", f"Dir::Etc::sourcelist={self.list}", "-o", "Dir::Etc::sourceparts=-",
                "-o", f"Dir::State::Lists={self.directory}/lists", "-o", f"Dir::Cache={self.directory}/cache",
                "-o", "APT::Sandbox::User=root", "-q", *args]

    def run(self, tool, *args, cwd=None):
        subprocess.run(self.argv(tool, *args), check=True, cwd=cwd or self.directory,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def output(self, tool, *args):
        return subprocess.run(self.argv(tool, *args), check=True, capture_output=True, text=True).stdout

    def newest(self, package, suite):
        """The newest version of `package` this archive has in `suite` (apt's own
        candidate would be what this machine has installed)."""
        for line in self.output("apt-cache", "madison", package).splitlines():
            fields = [f.strip() for f in line.split("|")]
            if len(fields) >= 3 and suite in fields[2]:
                return fields[1]
        return None

    def dependencies(self, package, prefixes=("",)):
        """The Depends of `package` whose names start with one of `prefixes`."""
        names = []
        for line in self.output("apt-cache", "depends", package).splitlines():
            line = line.strip()
            if line.startswith("Depends: ") and line.split()[1].startswith(prefixes):
                names.append(line.split()[1])
        return names

    def depends(self, package, prefix=""):
        """The first Depends of `package` whose name starts with `prefix` (a kernel
        meta-package → its image)."""
        return next(iter(self.dependencies(package, (prefix,))), None)

    def download(self, packages, directory):
        """`packages` ("name" or "name=version") downloaded into `directory`."""
        self.run("apt-get", "download", *packages, cwd=directory)

    def source(self, package, directory):
        self.run("apt-get", "source", "--download-only", package, cwd=directory)
