/// The one version of reboot-witness: `--version` prints it, and
/// scripts/package names the .deb, the .rpm and the image after it.
public enum Version {
    public static let string = "0.11.0"
}
