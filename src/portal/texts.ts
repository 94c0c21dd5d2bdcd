// Every text the portal shows, in French: the users are French health professionals. One
// catalogue, so that wording is reviewed in one place (§5.6: a BAL is « dépubliée pour
// cause d'inactivité », never put « en liste rouge » by the operator; EX_GBM_3040: users
// hear personnelle / organisationnelle / applicative, never the Annuaire's ORG/CAB codes).
import type { BalType, BalStatus } from '../registry/schema.js';
import type { Role } from '../registry/registry.js';

export const T = {
  appName: 'Espace professionnel MSSanté',
  traced: 'Vos connexions et vos modifications sont enregistrées dans les traces fonctionnelles de l’opérateur.',
  lang: 'fr',
  nav: {
    mailboxes: 'Mes boîtes aux lettres',
    notices: 'Avis en attente',
    history: 'Mon historique',
    signOut: 'Se déconnecter',
    signedInAs: (who: string) => `Connecté(e) : ${who}`,
  },
  home: {
    title: 'Bienvenue',
    intro:
      "Cet espace vous permet de gérer vos boîtes aux lettres de messagerie sécurisée de santé (MSSanté) : les délégations d'accès, les cotitulaires et le responsable des boîtes organisationnelles, votre inscription en liste rouge, les avis d'inactivité, et de consulter vos dernières connexions et opérations.",
    signIn: 'Se connecter avec Pro Santé Connect',
    signInHelp: 'Vous serez redirigé(e) vers Pro Santé Connect pour vous identifier (carte CPS ou e-CPS).',
    expired: 'Votre session a expiré. Connectez-vous de nouveau.',
    signedOut: 'Vous êtes déconnecté(e).',
    signInFailed: (why: string) => `La connexion a échoué : ${why}`,
  },
  signIn: {
    stateMismatch:
      'la réponse de Pro Santé Connect ne correspond à aucune connexion en cours dans ce navigateur (lien réutilisé, ou délai de connexion dépassé). Recommencez depuis cette page.',
    refused: "Pro Santé Connect n'a pas confirmé votre identité.",
    acr: "le niveau d'authentification obtenu est insuffisant.",
    noIdNat: "Pro Santé Connect n'a pas fourni d'identifiant national (SubjectNameID).",
    unavailable: 'Pro Santé Connect est momentanément indisponible. Réessayez dans quelques minutes.',
  },
  mailboxes: {
    title: 'Mes boîtes aux lettres',
    intro: (idNat: string) => `Boîtes aux lettres auxquelles votre identifiant national ${idNat} donne accès, et ce que votre rôle vous permet d'y faire.`,
    none: (idNat: string) =>
      `Aucune boîte aux lettres n'est associée à votre identifiant national ${idNat}. Si c'est une erreur, contactez le service informatique de votre établissement.`,
    address: 'Adresse',
    type: 'Type',
    role: 'Votre rôle',
    allows: 'Ce que votre rôle permet',
    state: 'État',
    annuaire: 'Annuaire Santé',
    manage: 'Gérer',
  },
  types: { PER: 'personnelle', ORG: 'organisationnelle', CAB: 'organisationnelle', APP: 'applicative' } satisfies Record<BalType, string>,
  roles: {
    holder: 'Titulaire',
    responsible: 'Responsable opérationnel',
    'co-holder': 'Cotitulaire',
    delegate: 'Délégué(e)',
  } satisfies Record<Role, string>,
  delegateFor: (who: string) => `pour le compte de ${who}`,
  statuses: { active: 'active', suspended: 'suspendue', deleted: 'supprimée' } satisfies Record<BalStatus, string>,
  publication: {
    published: 'publiée',
    userListeRouge: 'liste rouge (votre choix)',
    inactivity: "dépubliée pour cause d'inactivité",
    notPublished: 'non publiée',
  },
  capabilities: {
    read: 'consulter et envoyer des messages',
    delegates: 'gérer les délégations',
    coHolders: 'gérer les cotitulaires',
    responsible: 'changer le responsable opérationnel',
    description: 'modifier la description',
    listeRouge: "choisir l'inscription en liste rouge",
  },
  mailbox: {
    pages: { delegations: 'Délégations', organisation: 'Cotitulaires et responsable', listeRouge: 'Liste rouge' },
    back: '← Mes boîtes aux lettres',
    notYours: "Cette boîte aux lettres n'existe pas ou votre identifiant ne vous y donne pas accès.",
    readOnlyDelegate:
      'Vous êtes délégué(e) de cette boîte : vous pouvez consulter et envoyer des messages, mais seuls le titulaire, le responsable opérationnel et les cotitulaires peuvent déclarer des délégués, des cotitulaires ou un responsable (§5.4.2 du Référentiel).',
    readOnly: 'Votre rôle sur cette boîte ne permet pas cette modification.',
    informOthers:
      "Pour une boîte organisationnelle, l'ouverture d'un nouvel accès suppose d'en avoir informé l'ensemble des professionnels habilités qui y accèdent.",
  },
  delegations: {
    title: (address: string) => `Délégations de ${address}`,
    intro:
      "Un délégué consulte et envoie des messages depuis cette boîte pour le compte du titulaire, du responsable opérationnel ou d'un cotitulaire. Les délégués ne sont pas publiés dans l'Annuaire Santé. Vous êtes responsable des accès que vous ouvrez.",
    none: "Aucun délégué n'est déclaré.",
    idNat: 'Identifiant',
    name: 'Nom',
    for: 'Pour le compte de',
    grantedBy: 'Accordée par',
    grantedAt: 'Le',
    actions: 'Actions',
    change: 'Modifier',
    remove: 'Retirer',
    addTitle: 'Ajouter un délégué',
    addIdNat: 'Identifiant national (RPPS précédé de 8, ADELI précédé de 0) ou identifiant de l’annuaire local',
    addName: 'Nom et prénom (facultatif)',
    add: 'Ajouter le délégué',
    searchTitle: "Rechercher dans l'annuaire local de l'établissement",
    searchLabel: 'Nom ou prénom',
    search: 'Rechercher',
    searchNone: 'Aucune personne trouvée.',
    searchTooShort: 'Saisissez au moins 3 lettres.',
    choose: 'Choisir',
    added: (idNat: string) => `${idNat} est désormais délégué(e) de cette boîte.`,
    changed: (idNat: string) => `La délégation de ${idNat} est modifiée.`,
    removed: (idNat: string) => `${idNat} n'est plus délégué(e) de cette boîte.`,
  },
  organisation: {
    title: (address: string) => `Cotitulaires et responsable de ${address}`,
    coHolders: 'Cotitulaires',
    none: 'Aucun cotitulaire.',
    lastName: 'Nom',
    firstName: 'Prénom',
    idNat: 'Identifiant',
    responsibleMark: 'Responsable opérationnel',
    remove: 'Retirer',
    addTitle: 'Ajouter un cotitulaire',
    addIdNat: 'Identifiant national (RPPS précédé de 8, ADELI précédé de 0)',
    add: 'Ajouter le cotitulaire',
    responsibleTitle: 'Responsable opérationnel',
    responsibleNow: (who: string) => `Actuellement : ${who}`,
    responsibleCab: 'Nouveau responsable (parmi les cotitulaires)',
    responsibleOrgIdNat: 'Identifiant national du nouveau responsable',
    responsibleOrgName: "Libellé publié dans l'Annuaire Santé (nom, fonction)",
    changeResponsible: 'Changer le responsable',
    descriptionTitle: 'Description',
    description: 'Description publiée dans l’Annuaire Santé',
    changeDescription: 'Modifier la description',
    added: (idNat: string) => `${idNat} est désormais cotitulaire.`,
    removed: (idNat: string) => `${idNat} n'est plus cotitulaire.`,
    responsibleChanged: (idNat: string) => `${idNat} est désormais responsable opérationnel.`,
    descriptionChanged: 'La description est modifiée.',
  },
  listeRouge: {
    title: (address: string) => `Liste rouge de ${address}`,
    intro:
      "Les boîtes aux lettres MSSanté sont publiées dans l'Annuaire Santé, où les autres professionnels peuvent les consulter. Vous pouvez demander à tout moment l'inscription en liste rouge : la boîte reste utilisable mais n'est plus visible dans l'Annuaire Santé. Ce choix vous appartient et peut être modifié à tout moment.",
    now: (on: boolean) => (on ? 'Cette boîte est inscrite en liste rouge, à votre demande.' : "Cette boîte n'est pas inscrite en liste rouge."),
    inactivity: (since: string) =>
      `Cette boîte est dépubliée pour cause d'inactivité depuis le ${since} ; une connexion la fait de nouveau apparaître dans l'Annuaire Santé.`,
    on: 'Oui, inscrire cette boîte en liste rouge',
    off: 'Non, publier cette boîte dans l’Annuaire Santé',
    save: 'Enregistrer mon choix',
    saved: (on: boolean) =>
      on
        ? 'Votre boîte sera inscrite en liste rouge lors de la prochaine publication dans l’Annuaire Santé.'
        : 'Votre boîte sera publiée lors de la prochaine publication dans l’Annuaire Santé.',
  },
  notices: {
    title: 'Avis en attente',
    intro:
      "Une boîte aux lettres sans connexion depuis 60 jours est dépubliée pour cause d'inactivité (elle reste active) ; sans authentification depuis un an, elle est supprimée avec ses messages. Un avis vous est envoyé avant. Vous pouvez vous y opposer ici.",
    none: 'Aucun avis en attente pour vos boîtes aux lettres.',
    depublish: (address: string, date: string) => `${address} sera dépubliée pour cause d'inactivité à partir du ${date}.`,
    delete: (address: string, date: string) => `${address} sera supprimée, avec ses messages, à partir du ${date}.`,
    depublished: (address: string, date: string) => `${address} est dépubliée pour cause d'inactivité depuis le ${date}.`,
    object: "Je m'y oppose : j'utilise toujours cette boîte",
    objected: (address: string) => `Votre opposition est enregistrée : ${address} est considérée comme utilisée aujourd'hui.`,
    notPending: "Il n'y a plus d'avis en attente pour cette boîte.",
  },
  history: {
    title: 'Mon historique',
    intro: (days: number) =>
      `Vos dernières connexions et opérations enregistrées dans les traces fonctionnelles (${days} derniers jours). Seules vos propres actions sont affichées.`,
    none: 'Aucune connexion ni opération enregistrée sur cette période.',
    partial: "Historique partiel : la recherche s'est arrêtée avant la fin de la période (volume de traces important).",
    when: 'Date',
    action: 'Action',
    mailbox: 'Boîte',
    result: 'Résultat',
    means: 'Moyen',
    from: 'Adresse',
    ok: 'réussi',
    refused: (code: string) => `refusé (${code})`,
    onBehalfOf: (who: string) => `pour le compte de ${who}`,
  },
  actions: {
    login: 'Connexion à la boîte',
    'portal.login': "Connexion à l'espace professionnel",
    'portal.logout': "Déconnexion de l'espace professionnel",
    'bal.liste-rouge': 'Liste rouge',
    'bal.delegate': 'Ajout d’un délégué',
    'bal.delegate-change': 'Modification d’une délégation',
    'bal.revoke': 'Retrait d’un délégué',
    'bal.coholder-add': 'Ajout d’un cotitulaire',
    'bal.coholder-remove': 'Retrait d’un cotitulaire',
    'bal.responsible': 'Changement de responsable',
    'bal.description': 'Modification de la description',
    'notice.objection': "Opposition à un avis d'inactivité",
    'message.submit': 'Envoi d’un message',
    'portal.form': 'Formulaire refusé',
  } as Record<string, string>,
  form: {
    csrf: "Ce formulaire a été refusé : il ne provient pas d'une page de cet espace, ou il a expiré. Rechargez la page et recommencez.",
    refused: 'Modification refusée',
    invalid: 'Vérifiez les champs signalés.',
    required: 'Ce champ est obligatoire.',
    tooLong: (max: number) => `Au plus ${max} caractères.`,
    idNat:
      'Un identifiant national : 8 suivi du numéro RPPS (11 chiffres), 0 suivi du numéro ADELI, ou un identifiant de l’annuaire local (lettres, chiffres, . _ : @ / -).',
    rppsAdeli: 'Un cotitulaire de cabinet est identifié par son RPPS (8 + 11 chiffres) ou son ADELI (0 + 9 caractères) (EX_GBM_3030).',
    choice: 'Choisissez une des valeurs proposées.',
    submit: 'Enregistrer',
  },
  errors: {
    title: 'Erreur',
    notFound: "Cette page n'existe pas.",
    internal: 'Une erreur est survenue. Si elle se reproduit, contactez le service informatique de votre établissement.',
    busy: 'Le service est très sollicité. Réessayez dans un instant.',
    /** Registry refusals by code (the registry's own message, in English, is in the traces). */
    codes: {
      REGISTRY_FORBIDDEN:
        'Seuls le titulaire, le responsable opérationnel et les cotitulaires de la boîte peuvent faire cette modification ; un délégué ne peut déclarer ni délégué, ni cotitulaire, ni responsable (§5.4.2).',
      REGISTRY_DELEGATION: 'Cette délégation n’est pas possible (déjà déclarée, boîte applicative, ou personne pour le compte de qui agir invalide).',
      REGISTRY_COHOLDERS: 'Les cotitulaires ne concernent que les boîtes organisationnelles.',
      REGISTRY_CAB:
        'Règle des cabinets non respectée : un seul responsable, identifié par son RPPS, au plus 20 cotitulaires identifiés par RPPS ou ADELI (EX_GBM_3030). Pour retirer le responsable, désignez d’abord un autre responsable.',
      REGISTRY_UNKNOWN_DELEGATE: "Cette personne n'est pas déléguée de cette boîte.",
      REGISTRY_UNKNOWN_COHOLDER: "Cette personne n'est pas cotitulaire de cette boîte.",
      REGISTRY_UNKNOWN_BAL: "Cette boîte aux lettres n'existe pas.",
      REGISTRY_INVALID: 'La modification rendrait le registre des boîtes invalide ; elle a été refusée. Le service informatique peut vous en dire plus.',
      REGISTRY_SCHEMA: 'Cette modification ne s’applique pas à ce type de boîte.',
      USAGE_RESPONSIBLE_NAME: "Le libellé du responsable publié dans l'Annuaire Santé est obligatoire.",
      TEMPORARY_REGISTRY_CHANGED: 'Le registre a été modifié en même temps par le service informatique. Recommencez.',
      TEMPORARY_LOCK_TIMEOUT: 'Le registre est en cours de modification. Recommencez dans un instant.',
      PORTAL_BUSY: 'Le service est très sollicité. Réessayez dans un instant.',
    } as Record<string, string>,
  },
  dateTime: (d: Date, timeZone: string) => new Intl.DateTimeFormat('fr-FR', { timeZone, dateStyle: 'short', timeStyle: 'medium' }).format(d),
  date: (d: Date, timeZone: string) => new Intl.DateTimeFormat('fr-FR', { timeZone, day: '2-digit', month: '2-digit', year: 'numeric' }).format(d),
} as const;

/** The French message for a refused change: by code, or the generic one. */
export function refusalText(code: string): string {
  return T.errors.codes[code] ?? `${T.form.refused} (${code}).`;
}
