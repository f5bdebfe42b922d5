// `issue-certificate` (hidden): the child the webhook runs to make its TLS-auto certificates
// (webhook/tls/issuer-process.ts). One JSON request on stdin, the PEM pair as JSON on stdout; a bad
// request or a failure is one line on stderr and exit code 1. Not for people: nothing here is stable.
import type { Command } from 'commander';
import { readStdin, type CliIo } from '@vaultbridge/core';
import { answerIssueRequest } from '../webhook/tls/certificate-issuer.ts';

export function addIssueCertificateCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): Command {
  return program
    .command('issue-certificate', { hidden: true })
    .description('make a TLS-auto certificate for the webhook (run by serve; JSON in on stdin, out on stdout)')
    .action(async () => {
      try {
        io.stdout.write(`${await answerIssueRequest(await readStdin(io))}\n`);
      } catch (error) {
        io.stderr.write(`issue-certificate: ${error instanceof Error ? error.message : String(error)}\n`);
        setExitCode(1);
      }
    });
}
