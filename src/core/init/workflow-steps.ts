/**
 * The project's own steps in the workflows `mlops init` writes. The templates (templates/workflows/) carry
 * a Node project's: setup-node, "Build and unit tests (yours)" (`npm test`), "Train (yours)"
 * (`npm run train`) and, in CT, "Fetch the new data (yours)". For a Python project they become
 * setup-python with pip caching and the project's install, test and training commands; for a project
 * of neither kind, placeholders that say in the run's annotations what to put there (the training
 * placeholder fails the job: without a model the gate has nothing to check). Everything else in the
 * template is kept byte for byte.
 */
import type { ProjectStack, PythonCommands } from './stack.ts';

/**
 * actions/setup-python v6.0.0, the first release of its major on Node 24 (the runtime of the templates'
 * other actions, actions/checkout v5.0.0 and actions/setup-node v5.0.0); the commit is the tag's
 * (`git ls-remote https://github.com/actions/setup-python refs/tags/v6.0.0`).
 */
export const SETUP_PYTHON = 'actions/setup-python@e797f83bcb11b83ae66e0230d6156d7c80228e7c # v6.0.0';
/** The Python the workflows set up when the project does not pin one in .python-version. */
export const DEFAULT_PYTHON = '3.12';

/** A step of the templates that belongs to the project, found by its first line. */
const PROJECT_STEPS = {
  setup: /^( *)- uses: actions\/setup-node@/m,
  test: /^( *)- name: Build and unit tests \(yours\)$/m,
  train: /^( *)- name: Train \(yours\)$/m,
  fetch: /^( *)- name: Fetch the new data \(yours\)$/m,
} as const;
type ProjectStep = keyof typeof PROJECT_STEPS;

/**
 * The template's text with its project steps replaced for `stack` (unchanged for Node). `workflow` is
 * the file's path in the repository (`.github/workflows/mlops-ci.yml`), for the placeholders' messages.
 * Throws (an internal error: a broken template) when a Node command is left over.
 */
export function applyProjectSteps(
  text: string,
  stack: ProjectStack,
  workflow: string,
  template: string,
): string {
  if (stack.kind === 'node') return text;
  let result = text;
  for (const step of Object.keys(PROJECT_STEPS) as ProjectStep[]) {
    result = replaceStep(result, PROJECT_STEPS[step], (indent) =>
      indentLines(renderStep(step, stack, workflow), indent),
    );
  }
  const leftover = /^\s*(?:- uses: actions\/setup-node@|run: npm )/m.exec(result);
  if (leftover) {
    throw new Error(
      `Template ${template}: "${leftover[0].trim()}" is not one of the project steps mlops init replaces (setup-node, "Build and unit tests (yours)", "Train (yours)", "Fetch the new data (yours)").`,
    );
  }
  return result;
}

/**
 * Replaces the step whose first line matches `first`: that line and every following line indented
 * deeper than its dash (blank lines inside count when a deeper line follows).
 */
function replaceStep(text: string, first: RegExp, render: (indent: string) => string): string {
  const match = first.exec(text);
  if (!match) return text;
  const indent = match[1];
  const start = match.index;
  const lines = text.slice(start).split('\n');
  let end = 1;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    if (line.length - line.trimStart().length <= indent.length) break;
    end = i + 1;
  }
  const consumed = lines.slice(0, end).join('\n').length + 1;
  return text.slice(0, start) + render(indent) + text.slice(start + consumed);
}

function indentLines(block: string, indent: string): string {
  return block
    .split('\n')
    .map((line) => (line === '' ? line : indent + line))
    .join('\n');
}

/** A step (or steps, or a comment) at indentation 0, ending with a newline. */
function renderStep(step: ProjectStep, stack: ProjectStack, workflow: string): string {
  const python = stack.kind === 'python' ? stack.python : undefined;
  if (python) return renderPythonStep(step, python, workflow);
  switch (step) {
    case 'setup':
      return placeholder(
        'Set up your project (yours)',
        'warning',
        `mlops init found no pyproject.toml, requirements.txt, setup.cfg, setup.py or package.json. Replace this step of ${workflow} with your project's setup, e.g. actions/setup-python and pip install -r requirements.txt.`,
      );
    case 'test':
      return placeholder(
        'Unit tests (yours)',
        'warning',
        `No tests run here yet. Replace this step of ${workflow} with the command that runs your tests.`,
      );
    case 'train':
      return trainPlaceholder(workflow);
    case 'fetch':
      return fetchPlaceholder(workflow);
  }
}

function renderPythonStep(step: ProjectStep, python: PythonCommands, workflow: string): string {
  switch (step) {
    case 'setup': {
      const lines = [`- uses: ${SETUP_PYTHON}`, '  with:'];
      lines.push(
        python.pythonVersionFile
          ? `    python-version-file: ${python.pythonVersionFile} # the Python your project pins`
          : `    python-version: "${DEFAULT_PYTHON}" # (yours) the Python you train with`,
      );
      if (python.pipCache === 'default') {
        lines.push('    cache: pip # pip downloads, cached by the hash of requirements.txt');
      } else if (python.pipCache !== 'off') {
        const key = python.pipCache.dependencyPath;
        lines.push(
          `    cache: pip # pip downloads, cached by the hash of ${key}`,
          `    cache-dependency-path: ${key}`,
        );
      }
      const install = python.install
        ? `- name: Install dependencies (yours)\n  run: ${python.install}\n`
        : placeholder(
            'Install dependencies (yours)',
            'warning',
            `mlops init found no requirements.txt and no installable project (pyproject.toml with [project], setup.py, setup.cfg). Replace this step of ${workflow} with the command that installs your dependencies.`,
          );
      return `${lines.join('\n')}\n${install}`;
    }
    case 'test':
      return python.test
        ? `- name: Unit tests (yours)\n  run: ${python.test}\n`
        : '# No tests found (tests/test_*.py, pytest configuration): add the step that runs yours here.\n';
    case 'train':
      return python.train
        ? `- name: Train (yours)\n  run: ${python.train} # must write the ONNX model at $MODEL_PATH\n`
        : trainPlaceholder(workflow);
    case 'fetch':
      return python.fetch
        ? `- name: Fetch the new data (yours)\n  run: ${python.fetch}\n`
        : fetchPlaceholder(workflow);
  }
}

/** A step that only annotates the run, with its message; `exit 1` after an error. */
function placeholder(name: string, level: 'notice' | 'warning' | 'error', message: string): string {
  const annotation = `echo "::${level} title=${name}::${message.replace(/["$`\\]/g, '\\$&')}"`;
  return `- name: ${name}\n  run: |\n    ${annotation}\n${level === 'error' ? '    exit 1\n' : ''}`;
}

function trainPlaceholder(workflow: string): string {
  return placeholder(
    'Train (yours)',
    'error',
    `mlops init found no training script (train.py). Replace this step of ${workflow} with your training command: it must write the ONNX model at MODEL_PATH (build/model.onnx).`,
  );
}

function fetchPlaceholder(workflow: string): string {
  return placeholder(
    'Fetch the new data (yours)',
    'notice',
    `Nothing fetched: mlops init found no fetch_data.py. Replace this step of ${workflow} with the command that brings new data into the repository, or delete it.`,
  );
}
