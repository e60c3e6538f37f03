// Runs the CLI from source (through tsx) for tests: `node --import tsx test/build/cli-entry.ts ARGS`.
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
