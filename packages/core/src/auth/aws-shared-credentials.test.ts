// The AWS shared credentials file in the credential chain, as Vault Agent's aws method reads it through
// awsutil and aws-sdk-go v1's SharedCredentialsProvider: AWS_SHARED_CREDENTIALS_FILE or
// $HOME/.aws/credentials, the profile from AWS_PROFILE (then the configured one, then `default`), after
// the method's keys, the environment and a web identity token, before container and instance credentials.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { awsCredentialChain, parseSharedCredentials, sharedCredentialsFile, sharedCredentialsProfile } from './aws.ts';
import { CloudCredentialError } from './cloud-http.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLETOKEN';
const FILE = `# a comment
; another comment
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = ${SECRET}

[app]
aws_access_key_id=AKIAAPP
aws_secret_access_key=${SECRET}-app
aws_session_token = ${TOKEN}

[  spaced  ]
  aws_access_key_id   =   AKIASPACED
  aws_secret_access_key = ${SECRET}-spaced

[process-only]
credential_process = /usr/local/bin/get-credentials --profile app

[process-and-keys]
credential_process = /usr/local/bin/get-credentials
aws_access_key_id = AKIAKEYSWIN
aws_secret_access_key = ${SECRET}-keys

[no-secret]
aws_access_key_id = AKIANOSECRET
`;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'aws-shared-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const credentialsFile = path.join(work, 'credentials');
fs.writeFileSync(credentialsFile, FILE);

function refusal(run: () => unknown): CloudCredentialError {
  try {
    run();
  } catch (error) {
    if (error instanceof CloudCredentialError) return error;
    throw error;
  }
  throw new Error('expected a CloudCredentialError');
}

describe('parseSharedCredentials', () => {
  test.each([
    ['default', { accessKeyId: 'AKIADEFAULT', secretAccessKey: SECRET }],
    ['app', { accessKeyId: 'AKIAAPP', secretAccessKey: `${SECRET}-app`, sessionToken: TOKEN }],
    ['spaced', { accessKeyId: 'AKIASPACED', secretAccessKey: `${SECRET}-spaced` }],
    // The SDK's provider reads the keys and never runs the process: with keys, the keys are used.
    ['process-and-keys', { accessKeyId: 'AKIAKEYSWIN', secretAccessKey: `${SECRET}-keys` }],
  ])('profile [%s]', (profile, expected) => {
    expect(parseSharedCredentials(FILE, '/f', profile)).toEqual({
      ...expected,
      source: `the shared credentials file /f (profile ${profile})`,
    });
  });

  test('CRLF line ends are read like LF', () => {
    expect(parseSharedCredentials(FILE.replaceAll('\n', '\r\n'), '/f', 'app').sessionToken).toBe(TOKEN);
  });

  test.each([
    [
      'a profile that is not there, naming those that are',
      'missing',
      'the shared credentials file /f has no profile [missing] (profiles: [default], [app], [spaced], [process-only], [process-and-keys], [no-secret]); set AWS_PROFILE or auth-config-profile to one of them',
    ],
    [
      'credential_process without keys',
      'process-only',
      "profile [process-only] in /f uses credential_process, which this agent does not run: put aws_access_key_id and aws_secret_access_key in the profile, or use the pod's IRSA or Pod Identity credentials",
    ],
    [
      'an access key without its secret',
      'no-secret',
      'profile [no-secret] in /f has no aws_secret_access_key: give both aws_access_key_id and aws_secret_access_key',
    ],
  ])('refuses %s', (_name, profile, message) => {
    expect(refusal(() => parseSharedCredentials(FILE, '/f', profile)).message).toBe(message);
  });

  test('a malformed line is named by number, never quoted (it may hold a key)', () => {
    const error = refusal(() =>
      parseSharedCredentials(`[default]\naws_access_key_id = AKIA\n${SECRET}\n`, '/f', 'default'),
    );
    expect(error.message).toBe('the shared credentials file /f, line 3: expected [profile] or key = value');
    const outside = refusal(() => parseSharedCredentials(`aws_access_key_id = AKIA\n`, '/f', 'default'));
    expect(outside.message).toBe(
      'the shared credentials file /f, line 1: expected [profile] or key = value inside a [profile] section',
    );
  });

  test('no refusal quotes a secret', () => {
    for (const profile of ['missing', 'process-only', 'no-secret']) {
      const message = refusal(() => parseSharedCredentials(FILE, '/f', profile)).message;
      expect(message).not.toContain(SECRET);
      expect(message).not.toContain(TOKEN);
    }
  });
});

describe('where the file is and which profile', () => {
  test('AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials, else none', () => {
    expect(sharedCredentialsFile({ AWS_SHARED_CREDENTIALS_FILE: '/x/creds', HOME: '/home/vault' })).toBe('/x/creds');
    expect(sharedCredentialsFile({ HOME: '/home/vault/' })).toBe('/home/vault/.aws/credentials');
    expect(sharedCredentialsFile({})).toBeUndefined();
  });

  test('AWS_PROFILE, else the configured profile, else default', () => {
    expect(sharedCredentialsProfile({ AWS_PROFILE: 'env' }, 'config')).toBe('env');
    expect(sharedCredentialsProfile({}, 'config')).toBe('config');
    expect(sharedCredentialsProfile({}, undefined)).toBe('default');
    expect(sharedCredentialsProfile({ AWS_PROFILE: '' }, '  ')).toBe('default');
  });
});

describe('awsCredentialChain with the shared credentials file', () => {
  const none = { AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9' };

  test('AWS_SHARED_CREDENTIALS_FILE and AWS_PROFILE', async () => {
    const chain = awsCredentialChain({
      env: { ...none, AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_PROFILE: 'app' },
    });
    expect(await chain()).toEqual({
      accessKeyId: 'AKIAAPP',
      secretAccessKey: `${SECRET}-app`,
      sessionToken: TOKEN,
      source: `the shared credentials file ${credentialsFile} (profile app)`,
    });
  });

  test('$HOME/.aws/credentials with the configured profile; AWS_PROFILE wins over it', async () => {
    const home = path.join(work, 'home');
    fs.mkdirSync(path.join(home, '.aws'), { recursive: true });
    fs.copyFileSync(credentialsFile, path.join(home, '.aws/credentials'));
    expect((await awsCredentialChain({ env: { ...none, HOME: home }, profile: 'spaced' })()).accessKeyId).toBe(
      'AKIASPACED',
    );
    expect(
      (await awsCredentialChain({ env: { ...none, HOME: home, AWS_PROFILE: 'app' }, profile: 'spaced' })()).accessKeyId,
    ).toBe('AKIAAPP');
    expect((await awsCredentialChain({ env: { ...none, HOME: home } })()).accessKeyId).toBe('AKIADEFAULT');
  });

  test("the file is read through the caller's readFile (the agent confines it to its root)", async () => {
    const asked: string[] = [];
    const chain = awsCredentialChain({
      env: { ...none, AWS_SHARED_CREDENTIALS_FILE: '/vault/custom/credentials' },
      readFile: async (file) => {
        asked.push(file);
        return FILE;
      },
    });
    expect((await chain()).accessKeyId).toBe('AKIADEFAULT');
    expect(asked).toEqual(['/vault/custom/credentials']);
  });

  test('the method keys and the environment come before the file', async () => {
    const env = { ...none, AWS_SHARED_CREDENTIALS_FILE: credentialsFile };
    expect((await awsCredentialChain({ env, accessKey: 'AKIACONFIG', secretKey: 's' })()).source).toBe(
      'the method config (access_key)',
    );
    expect(
      (await awsCredentialChain({ env: { ...env, AWS_ACCESS_KEY_ID: 'AKIAENV', AWS_SECRET_ACCESS_KEY: 's' } })())
        .source,
    ).toBe('the environment (AWS_ACCESS_KEY_ID)');
  });

  test('a profile the file cannot serve is an error, not a silent fall-through to instance metadata', async () => {
    const chain = awsCredentialChain({
      env: { ...none, AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_PROFILE: 'process-only' },
    });
    await expect(chain()).rejects.toThrow(/profile \[process-only\] .* uses credential_process/);
  });

  describe('a file that does not exist: the chain goes on, as the SDK does', () => {
    let server: http.Server;
    let url: string;
    beforeAll(async () => {
      server = http.createServer((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ AccessKeyId: 'AKIACONTAINER', SecretAccessKey: 'c', Token: 't' }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/creds`;
    });
    afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

    test('to container credentials', async () => {
      const chain = awsCredentialChain({
        env: {
          ...none,
          AWS_SHARED_CREDENTIALS_FILE: path.join(work, 'absent'),
          AWS_CONTAINER_CREDENTIALS_FULL_URI: url,
        },
      });
      expect((await chain()).source).toBe('the container credentials endpoint');
    });

    test('and when the rest fails too, the error says the named file was not there', async () => {
      const absent = path.join(work, 'absent');
      const chain = awsCredentialChain({
        env: { AWS_SHARED_CREDENTIALS_FILE: absent, AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:9/creds' },
      });
      await expect(chain()).rejects.toThrow(
        new RegExp(`container credentials .*; before that, the shared credentials file ${absent} does not exist`),
      );
    });
  });
});
