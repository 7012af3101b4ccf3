import { parseConfig } from '../../src/config/schema.js';
import type { UnitsInput } from '../../src/units/drop-ins.js';

// Representative device configs for the systemd-units tests (generator output and systemd-analyze).
export const BASE = { deviceId: 'dev-1', hardwareId: 'board-a' };
const UBOOT = { print: ['fw_printenv'], set: ['fw_setenv'], setStyle: 'pair' };
const GRUB = { print: ['grub-editenv', '/boot/grub/grubenv', 'list'], set: ['grub-editenv', '/boot/grub/grubenv', 'set'], setStyle: 'assign' };
export const FW_ENV = { path: '/etc/fw_env.config', text: '# MMC: two redundant copies\n/dev/mmcblk0  0x3f8000  0x4000\n/dev/mmcblk0  0x3fc000  0x4000\n' };

// An eMMC board: block-device slots by partition label, U-Boot's env on the disk, the bootloader verified at boot.
export function ubootInput(): UnitsInput {
  const config = parseConfig({
    ...BASE,
    images: [{ target: 'rootfs.img', kind: 'os' }, { target: 'u-boot.bin', path: '/dev/mmcblk0boot0', kind: 'firmware' }],
    update: { slots: { a: '/dev/disk/by-partlabel/rootfs_a', b: '/dev/disk/by-partlabel/rootfs_b' }, bootSelector: { commands: UBOOT } },
  });
  return { config, configPath: '/etc/edgeseal/config.json', fwEnv: FW_ENV };
}

// An x86 box: app bundles as files, GRUB's env, a TPM at /dev/tpm0, state on a data partition.
export function grubInput(): UnitsInput {
  const config = parseConfig({
    ...BASE,
    stateDir: '/data/edgeseal',
    runDir: '/run/edgeseal-spool',
    tpm: { device: '/dev/tpm0' },
    images: [{ target: 'app.img', kind: 'app' }],
    update: { slots: { a: '/data/slots/app-a.img', b: '/data/slots/app-b.img' }, bootSelector: { commands: GRUB } },
  });
  return { config, configPath: '/etc/edgeseal/agent.json' };
}
