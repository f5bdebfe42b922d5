// VSO manifests → ours: the operator's own converter (`vaultbridge-operator convert`), used here as the
// first stage of every migration so both commands say the same thing.
export { convertVsoManifests, isVsoManifest, VSO_GROUP } from '@vaultbridge/operator';
