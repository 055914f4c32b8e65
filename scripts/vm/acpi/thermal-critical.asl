/*
 * A thermal zone for the thermal-protection scenario: 40.0 C until 75 s of
 * uptime (the guest is armed by then under TCG), 110.0 C after, over its
 * critical trip (100.0 C). Linux's ACPI thermal driver (built in on
 * Debian) polls it every second (_TZP) and, at the trip, calls the
 * hardware-protection shutdown: hw_protection_shutdown("Temperature too
 * high") on 6.1, __hw_protection_shutdown on 6.12, __hw_protection_trigger
 * on 6.15+; orderly_poweroff then runs /sbin/poweroff. Timer is uptime in
 * 100 ns units. Given to QEMU (-acpitable) on the scenario's first boot only.
 */
DefinitionBlock ("", "SSDT", 2, "RWTEST", "THRMCRIT", 0x00000001)
{
    Scope (\_TZ)
    {
        ThermalZone (TZ00)
        {
            Method (_TMP, 0, Serialized)
            {
                If (Timer () >= 750000000) { Return (3832) }
                Return (3132)
            }
            Method (_CRT, 0, NotSerialized) { Return (3732) }
            Method (_TZP, 0, NotSerialized) { Return (10) }
        }
    }
}
