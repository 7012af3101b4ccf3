import { EdgesealError } from '../core/errors.js';
import { formatPcrSelection, type PcrSelection } from './pcr-selection.js';

// Which PCR measurements go to (ARCHITECTURE P4), judged against the PC Client PTP PCR attributes and
// the Linux boot chain's PCRs; docs/measurement-pcr.md gives the reasoning.

// reset by TPM2_PCR_Reset at locality 0 (16 debug, 23 application support): local root can wipe the history
const RESETTABLE_AT_LOCALITY_0 = new Set([16, 23]);
// extended by the boot chain: GRUB 8–9, IMA 10, systemd-stub/pcrphase 11, systemd 12–13 and 15, shim 14
const BOOT_CHAIN = { min: 8, max: 15 };
// reset and extended only at localities 1–4 (DRTM): /dev/tpmrm0 at locality 0 cannot extend them
const LOCALITY_RESTRICTED = { min: 17, max: 22 };

// Throws CONFIG_INVALID when the PCR is one of the seal set (measuring into it would lock this boot out
// of its own anchors) or one locality 0 cannot extend; returns warnings for the choices that work but
// weaken P4 (resettable, or shared with the boot chain).
export function checkMeasurementPcr(pcr: number, sealed: PcrSelection | undefined): string[] {
  if (sealed?.pcrs.includes(pcr)) {
    throw new EdgesealError('CONFIG_INVALID', `tpm.measurePcr: expected a PCR outside the seal set ${formatPcrSelection(sealed)} (device.json), found ${pcr}`);
  }
  if (pcr >= LOCALITY_RESTRICTED.min && pcr <= LOCALITY_RESTRICTED.max) {
    throw new EdgesealError('CONFIG_INVALID', `tpm.measurePcr: expected a PCR that locality 0 can extend (0–16 or 23), found ${pcr} (extended only at localities 1–4)`);
  }
  if (RESETTABLE_AT_LOCALITY_0.has(pcr)) return [`tpm.measurePcr ${pcr} is reset by TPM2_PCR_Reset at locality 0: local root can erase the measurement history (default 6)`];
  if (pcr >= BOOT_CHAIN.min && pcr <= BOOT_CHAIN.max) return [`tpm.measurePcr ${pcr} is extended by the boot chain (GRUB, IMA, systemd, shim use 8–15): its log will not replay alone`];
  return [];
}
