// The Go templates the compile and admission profiles use (profile-compile.ts, profile-admission.ts).

/** The webhook benchmark's inline template (sampleReview in injector-webhook.ts). */
export const ONE_LINE_TEMPLATE = '{{ with secret "secret/data/web/api" }}{{ .Data.data.key }}{{ end }}';

/** 15 `with secret` blocks with `range`, pipes and `printf`: 2.4 KiB, a large inline template. */
export const LARGE_TEMPLATE = Array.from({ length: 15 }, (_, i) => {
  const n = String(i + 1).padStart(2, '0');
  return `{{with secret "secret/data/s${n}"}}
u={{.Data.data.u | trimSpace}}
p={{printf "%q" .Data.data.pw}}
{{- range $k, $v := .Data.data.x}}
{{$k}}={{$v}}
{{- end}}{{end}}`;
}).join('\n');
