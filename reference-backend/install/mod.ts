// reference-backend/install/mod.ts: what the install one-liner needs of the backend (docs/install.md,
// "The one-liner"; docs/api.md, GET /install.sh). Owns the two files the command downloads
// (deploy/install.sh and the unit, read once at start), their SHA-256 digests, and the text of the
// command itself, quoted for bash. Never holds an install token: the command asks for it at
// install.sh's hidden prompt. Never answers a request: the routes serve what it read.
export { type AgentBinary, fileDigest, type FileDigests, installCommand } from "./command.ts";
export { DOWNLOADS, type Downloads, loadDownloads, PROJECT_ROOT } from "./downloads.ts";
