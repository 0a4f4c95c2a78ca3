import { expect, test, type Page } from '@playwright/test';
import { signInNewClinician, waitForOfflineReady } from './support';

/**
 * A whole visit in the browser's language: register, visit, run a model, save it with an
 * assessment, write and share a report, print it. The words a clinician reads and the locale's
 * date and number formats are checked; the English specs are the same flow in English.
 */
interface Words {
  /** A patient of this test's own (the team is shared: a second Aminata would be a duplicate). */
  person: { given: string; family: string; village: string };
  locale: string;
  lang: string;
  welcome: (name: string) => string;
  patients: string;
  newPatient: string;
  givenName: string;
  familyName: string;
  sex: string;
  birthDate: string;
  village: string;
  save: string;
  notBackedUp: string;
  newEncounter: string;
  complaint: string;
  temperature: string;
  weight: string;
  height: string;
  highFever: string;
  thirst: string;
  saved: string;
  runAModel: string;
  runModel: string;
  /** A model form field with its unit, both from the manifest's translations. */
  ageField: string;
  /** The model's validation set as the result names it (the manifest's metrics.split). */
  validationSet: string;
  runAnyway: RegExp;
  result: string;
  suggests: string;
  saveForm: string;
  agree: string;
  saveResult: string;
  agreesInTimeline: RegExp;
  newReport: string;
  summary: string;
  plan: string;
  share: string;
  sharedNote: string;
  print: string;
  printable: string;
  clinicalReport: string;
  born: RegExp;
  printed: string;
  settings: string;
}

const FRENCH: Words = {
  person: { given: 'Mariama', family: 'Diallo', village: 'Kindia' },
  locale: 'fr-FR',
  lang: 'fr',
  welcome: (name) => `Bienvenue, ${name}`,
  patients: 'Patients',
  newPatient: 'Nouveau patient',
  givenName: 'Prénom',
  familyName: 'Nom de famille',
  sex: 'Sexe',
  birthDate: 'Date de naissance',
  village: 'Village',
  save: 'Enregistrer',
  notBackedUp: 'non sauvegardé',
  newEncounter: 'Nouvelle consultation',
  complaint: 'Motif de consultation',
  temperature: 'Température (°C)',
  weight: 'Poids (kg)',
  height: 'Taille (cm)',
  highFever: 'Forte fièvre',
  thirst: 'Soif excessive',
  saved: 'Enregistré sur cet appareil',
  runAModel: 'Lancer un modèle',
  runModel: 'Lancer le modèle',
  ageField: 'Âge (ans)',
  validationSet: 'jeu de validation',
  runAnyway: /Le lancer quand même/,
  result: 'Résultat',
  suggests: 'Évoque',
  saveForm: 'Enregistrer dans le dossier du patient',
  agree: "D'accord",
  saveResult: 'Enregistrer le résultat',
  agreesInTimeline: /d'accord \(clinicien\)/,
  newReport: 'Nouveau rapport',
  summary: 'Synthèse',
  plan: 'Conduite à tenir',
  share: 'Partager le rapport',
  sharedNote: 'sera transmis à votre superviseur',
  print: 'Imprimer',
  printable: 'Rapport imprimable',
  clinicalReport: 'Rapport clinique',
  born: /12 avr\.? 1979/,
  printed: 'Imprimé le',
  settings: 'Paramètres',
};

const PORTUGUESE: Words = {
  person: { given: 'Fátima', family: 'Mondlane', village: 'Inhambane' },
  locale: 'pt-PT',
  lang: 'pt',
  welcome: (name) => `Bem-vindo(a), ${name}`,
  patients: 'Doentes',
  newPatient: 'Novo doente',
  givenName: 'Nome próprio',
  familyName: 'Apelido',
  sex: 'Sexo',
  birthDate: 'Data de nascimento',
  village: 'Aldeia',
  save: 'Guardar',
  notBackedUp: 'sem cópia',
  newEncounter: 'Nova consulta',
  complaint: 'Queixa principal',
  temperature: 'Temperatura (°C)',
  weight: 'Peso (kg)',
  height: 'Altura (cm)',
  highFever: 'Febre alta',
  thirst: 'Sede excessiva',
  saved: 'Guardado neste dispositivo',
  runAModel: 'Executar um modelo',
  runModel: 'Executar modelo',
  ageField: 'Idade (anos)',
  validationSet: 'conjunto de validação',
  runAnyway: /Executar mesmo assim/,
  result: 'Resultado',
  suggests: 'Sugere',
  saveForm: 'Guardar no processo do doente',
  agree: 'Concordo',
  saveResult: 'Guardar resultado',
  agreesInTimeline: /clínico concorda/,
  newReport: 'Novo relatório',
  summary: 'Resumo',
  plan: 'Plano',
  share: 'Partilhar relatório',
  sharedNote: 'será enviado ao seu supervisor',
  print: 'Imprimir',
  printable: 'Relatório para impressão',
  clinicalReport: 'Relatório clínico',
  born: /12 de abr\.? de 1979/,
  printed: 'Impresso em',
  settings: 'Definições',
};

async function runModel(page: Page, w: Words) {
  const run = page.getByRole('button', { name: w.runModel, exact: true });
  const confirm = page.getByRole('checkbox', { name: w.runAnyway });
  await expect
    .poll(async () => (await run.isEnabled()) || (await confirm.isVisible()), { timeout: 30_000 })
    .toBe(true);
  if ((await confirm.isVisible()) && !(await confirm.isChecked())) await confirm.check();
  await run.click();
}

async function wholeVisit(page: Page, baseURL: string, w: Words) {
  const clinician = await signInNewClinician(page, baseURL);
  await page.goto('/');
  await expect(page.getByRole('heading', { name: w.welcome(clinician.name) })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', w.lang);
  await waitForOfflineReady(page);

  await page.getByRole('link', { name: w.patients, exact: true }).click();
  await page.getByRole('button', { name: w.newPatient }).click();
  await page.getByLabel(w.givenName).fill(w.person.given);
  await page.getByLabel(w.familyName).fill(w.person.family);
  await page.getByLabel(w.sex).selectOption('female');
  await page.getByLabel(w.birthDate).fill('1979-04-12');
  await page.getByLabel(w.village, { exact: true }).fill(w.person.village);
  await page.getByRole('button', { name: w.save, exact: true }).click();
  await expect(
    page.getByRole('heading', { name: `${w.person.given} ${w.person.family}` }),
  ).toBeVisible();
  await expect(page.getByText(w.notBackedUp).first()).toBeVisible();

  await page.getByRole('button', { name: w.newEncounter }).click();
  await page.getByLabel(w.complaint).fill('Soif');
  // A decimal comma, as the locale writes it.
  await page.getByLabel(w.temperature).fill('39,4');
  await expect(page.getByText(w.highFever)).toBeVisible();
  await page.getByLabel(w.weight).fill('81');
  await page.getByLabel(w.height).fill('165');
  await page.getByLabel(w.thirst).check();
  await expect(page.getByText(w.saved)).toBeVisible();

  await page.getByRole('button', { name: w.runAModel }).click();
  await page.getByRole('radio', { name: /Diab/ }).check();
  await page.getByRole('textbox', { name: /glucose|Glycémie|Glicemia/i }).fill('165');
  // The unit too is in the reader's language ("Âge (years)" was shown before).
  await expect(page.getByRole('textbox', { name: w.ageField, exact: true })).toBeVisible();
  await runModel(page, w);
  const result = page.getByRole('region', { name: w.result, exact: true });
  await expect(result).toContainText(w.suggests);
  await expect(result).toContainText(w.validationSet);
  // Percentages with the locale's decimal comma and a space before the sign.
  await expect(result).toContainText(/\d+,\d %/);
  const save = page.getByRole('form', { name: w.saveForm });
  await save.getByLabel(w.agree, { exact: true }).check();
  await save.getByRole('button', { name: w.saveResult }).click();
  await expect(
    page.getByRole('heading', { name: `${w.person.given} ${w.person.family}` }),
  ).toBeVisible();
  await expect(page.getByRole('link', { name: w.agreesInTimeline })).toBeVisible();

  await page.getByRole('button', { name: w.newReport }).click();
  await page.getByLabel(w.summary).fill('Polydipsie et fièvre.');
  await page.getByLabel(w.plan).fill('Glycémie à jeun demain.');
  await expect(page.getByText(w.saved)).toBeVisible();
  await page.getByRole('button', { name: w.share }).click();
  await expect(page.getByText(w.sharedNote)).toBeVisible();

  await page.getByRole('button', { name: w.print, exact: true }).click();
  const sheet = page.getByRole('article', { name: w.printable });
  await expect(sheet).toContainText(w.clinicalReport);
  await expect(sheet).toContainText(`${w.person.given} ${w.person.family}`);
  await expect(sheet).toContainText('39,4 °C');
  await expect(sheet).toContainText(w.born);
  await expect(sheet).toContainText(w.printed);
}

test.describe('in French', () => {
  test.use({ locale: FRENCH.locale });

  test('the sign-in page follows the browser, and server errors are translated', async ({
    page,
  }) => {
    await page.goto('/signin');
    await expect(page.getByRole('heading', { name: 'Se connecter à FieldDx' })).toBeVisible();
    await page.getByLabel('Adresse e-mail').fill('nobody@example.org');
    await page.getByLabel('Mot de passe').fill('not the password at all');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await expect(page.getByRole('alert')).toHaveText('Adresse e-mail ou mot de passe incorrect.');
  });

  test('a whole visit, then the language changed in Settings', async ({ page, baseURL }) => {
    await wholeVisit(page, baseURL!, FRENCH);
    await page.goto('/settings');
    await page.getByRole('combobox', { name: 'Langue' }).selectOption('pt');
    await expect(page.getByRole('heading', { name: PORTUGUESE.settings, level: 1 })).toBeVisible();
    await expect(page.getByRole('combobox', { name: 'Idioma' })).toHaveValue('pt');
    // Kept on the device: a reload stays in Portuguese.
    await page.reload();
    await expect(page.getByRole('heading', { name: PORTUGUESE.settings, level: 1 })).toBeVisible();
  });
});

test.describe('in Portuguese', () => {
  test.use({ locale: PORTUGUESE.locale });

  test('a whole visit', async ({ page, baseURL }) => {
    await wholeVisit(page, baseURL!, PORTUGUESE);
  });
});
