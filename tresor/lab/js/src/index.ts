/**
 * tresor in JupyterLab: the airlock side panel and "Submit to airlock…" on files.
 *
 * Every call goes to the single-user server (tresor.lab.airlock), which calls the airlock with
 * the server's own hub token: the page never holds a token.
 */
import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ServerConnection } from '@jupyterlab/services';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

const SUBMIT = 'tresor-airlock:submit';
const OPEN_PANEL = 'tresor-airlock:open-panel';
const PANEL_ID = 'tresor-airlock';

const airlockIcon = new LabIcon({
  name: 'tresor:airlock',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16">' +
    '<g class="jp-icon3" fill="#616161"><path d="M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5z' +
    'm0 2.2 6 2.2V11c0 3.9-2.5 7.6-6 8.8-3.5-1.2-6-4.9-6-8.8V6.4z"/>' +
    '<path d="M9 11h6v5H9zm1-2a2 2 0 0 1 4 0v2h-1.2V9a.8.8 0 0 0-1.6 0v2H10z"/></g></svg>'
});

interface IFinding {
  rule: string;
  verdict: string;
  message: string;
  location: { row: number | null; column: string | null } | null;
}

interface IFile {
  name: string;
  verdict: string;
  findings: IFinding[];
}

interface IRequest {
  id: string;
  project: string;
  status: string;
  updated_at: string;
  page: string;
  files: number | IFile[];
}

/** A call to the server's tresor/airlock routes; the airlock's refusal becomes the error. */
async function call(path: string, init: RequestInit = {}): Promise<any> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'tresor', 'airlock', path);
  const response = await ServerConnection.makeRequest(url, init, settings);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(body.message || `the airlock did not answer (${response.status})`);
  }
  return body;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

/** The researcher's requests, their states, and a link to each one's page. */
class AirlockPanel extends Widget {
  private list = el('ul', { class: 'tresor-airlock-list', 'data-testid': 'airlock-requests' });
  private note = el('p', { class: 'tresor-airlock-note' });

  constructor() {
    super();
    this.id = PANEL_ID;
    this.addClass('tresor-airlock-panel');
    this.title.icon = airlockIcon;
    this.title.caption = 'Airlock requests';
    const refresh = el('button', { class: 'jp-mod-styled', type: 'button' }, 'Refresh');
    refresh.addEventListener('click', () => void this.refresh());
    this.node.append(
      el('h2', {}, 'Airlock'),
      el(
        'p',
        {},
        'Results leave the node only through the airlock. Right-click a file and choose ',
        el('b', {}, 'Submit to airlock…'),
        '.'
      ),
      refresh,
      this.note,
      this.list
    );
  }

  protected onAfterShow(): void {
    void this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      const requests: IRequest[] = await call('requests');
      this.note.textContent = requests.length ? '' : 'No requests yet.';
      this.list.replaceChildren(...requests.map(r => this.item(r)));
    } catch (error) {
      this.note.textContent = String((error as Error).message);
    }
  }

  private item(r: IRequest): HTMLElement {
    const count = typeof r.files === 'number' ? r.files : r.files.length;
    const link = el('a', { href: r.page, target: '_blank', rel: 'noopener' }, r.id);
    return el(
      'li',
      { class: 'tresor-airlock-request', 'data-testid': 'airlock-request', 'data-id': r.id },
      link,
      ' ',
      el('span', { class: `tresor-airlock-status tresor-status-${r.status}` }, r.status.replace('_', ' ')),
      el('br'),
      el('small', {}, `${r.project}, ${count} file${count === 1 ? '' : 's'}, ${r.updated_at.slice(0, 16).replace('T', ' ')} UTC`)
    );
  }
}

/** Per file: what it is and how disclosure was controlled. */
class ContextForm extends Widget {
  constructor(private paths: string[]) {
    super();
    this.addClass('tresor-airlock-form');
    this.node.append(
      el(
        'p',
        {},
        'Two reviewers will read what you write here. The automatic checks run next; you see ' +
          'their findings before anything is submitted.'
      )
    );
    for (const path of paths) {
      this.node.append(
        el(
          'fieldset',
          { 'data-path': path },
          el('legend', {}, path),
          el('label', {}, 'What it is', el('textarea', { name: 'description', rows: '2' })),
          el(
            'label',
            {},
            'How disclosure was controlled',
            el('textarea', { name: 'disclosure_control', rows: '2' })
          )
        )
      );
    }
  }

  getValue(): { path: string; description: string; disclosure_control: string }[] {
    return this.paths.map((path, i) => {
      const set = this.node.querySelectorAll('fieldset')[i];
      const value = (name: string) =>
        (set.querySelector(`[name=${name}]`) as HTMLTextAreaElement).value.trim();
      return { path, description: value('description'), disclosure_control: value('disclosure_control') };
    });
  }
}

/** The checks' findings of a draft, grouped by file and rule. */
function findingsView(request: IRequest): Widget {
  const body = new Widget();
  body.addClass('tresor-airlock-findings');
  body.node.setAttribute('data-testid', 'airlock-findings');
  for (const file of request.files as IFile[]) {
    const rules = new Map<string, IFinding[]>();
    for (const f of file.findings) {
      rules.set(f.rule, [...(rules.get(f.rule) || []), f]);
    }
    const items = [...rules.entries()].map(([rule, found]) =>
      el(
        'li',
        { class: `tresor-finding-${found[0].verdict}` },
        el('b', {}, found[0].verdict),
        ' ',
        el('code', {}, rule),
        found.length > 1 ? ` (${found.length}): ` : ': ',
        found[0].message
      )
    );
    body.node.append(
      el(
        'section',
        {},
        el('h3', {}, file.name, ' ', el('span', { class: `tresor-verdict-${file.verdict}` }, file.verdict)),
        items.length ? el('ul', {}, ...items) : el('p', {}, 'No findings.')
      )
    );
  }
  body.node.append(
    el(
      'p',
      {},
      'Submit to send the request to the reviewers; a blocked file needs an exception, written ' +
        "on the request's page. Withdraw to change the files first."
    )
  );
  return body;
}

async function submitFlow(paths: string[], panel: AirlockPanel, app: JupyterFrontEnd): Promise<void> {
  const form = await showDialog({
    title: 'Submit to airlock',
    body: new ContextForm(paths),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Check files' })]
  });
  if (!form.button.accept || !form.value) {
    return;
  }
  const missing = form.value.filter(f => !f.description || !f.disclosure_control);
  if (missing.length) {
    await showErrorMessage(
      'Submit to airlock',
      `Say for ${missing.map(f => f.path).join(', ')} what it is and how disclosure was controlled.`
    );
    return;
  }
  let draft: IRequest;
  try {
    draft = await call('requests', { method: 'POST', body: JSON.stringify({ files: form.value }) });
  } catch (error) {
    await showErrorMessage('Submit to airlock', error as Error);
    return;
  }
  const decision = await showDialog({
    title: 'The checks found',
    body: findingsView(draft),
    buttons: [
      Dialog.cancelButton({ label: 'Withdraw' }),
      Dialog.okButton({ label: 'Submit for review' })
    ]
  });
  const action = decision.button.accept ? 'submit' : 'withdraw';
  try {
    const done: IRequest = await call(`requests/${draft.id}/${action}`, { method: 'POST' });
    if (action === 'submit') {
      app.shell.activateById(PANEL_ID);
      await panel.refresh();
      const link = el('a', { href: done.page, target: '_blank', rel: 'noopener' }, 'the request’s page');
      await showDialog({
        title: 'Submitted',
        body: new Widget({
          node: el('p', { 'data-testid': 'airlock-submitted' }, `Request ${done.id} is ${done.status.replace('_', ' ')}. Follow it in the Airlock panel or on `, link, '.')
        }),
        buttons: [Dialog.okButton()]
      });
    }
  } catch (error) {
    await showErrorMessage('Submit to airlock', error as Error);
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: '@tresor/lab:airlock',
  description: 'The airlock in JupyterLab: requests panel and Submit to airlock.',
  autoStart: true,
  requires: [IDefaultFileBrowser],
  optional: [ILabShell],
  activate: (app: JupyterFrontEnd, browser: IDefaultFileBrowser) => {
    const panel = new AirlockPanel();
    app.shell.add(panel, 'left', { rank: 900 });
    const selectedFiles = () =>
      [...browser.selectedItems()].filter(item => item.type !== 'directory').map(item => item.path);
    app.commands.addCommand(SUBMIT, {
      label: 'Submit to airlock…',
      caption: 'Ask two reviewers to release these files',
      icon: airlockIcon,
      isVisible: () => selectedFiles().length > 0,
      execute: () => submitFlow(selectedFiles(), panel, app)
    });
    app.commands.addCommand(OPEN_PANEL, {
      label: 'Airlock requests',
      execute: () => app.shell.activateById(PANEL_ID)
    });
    app.contextMenu.addItem({
      command: SUBMIT,
      selector: '.jp-DirListing-item[data-isdir="false"]',
      rank: 1
    });
  }
};

export default plugin;
