"""The accessibility statement (« déclaration d'accessibilité ») the RGAA requires of every
State web service, intranets included (décret n° 2019-768): what is compliant, what is not and
why, how it was checked, whom to write to. Text only; the page shows it as it is."""

from __future__ import annotations

#: Date of the last check (the browser tests run it at every change: tests/e2e/test_accessibility.py).
CHECKED_ON = "décembre 2026"

STATEMENT = f"""
L'outil de cartographie de la délinquance s'engage à rendre ses pages accessibles conformément
à l'article 47 de la loi n° 2005-102 du 11 février 2005 et au décret n° 2019-768 du 24 juillet 2019.
Cette déclaration s'applique à l'application web (mode poste local et mode serveur).

### État de conformité

L'application est **partiellement conforme** au référentiel général d'amélioration de
l'accessibilité (RGAA 4.1) : aucun audit complet du RGAA n'a encore été réalisé ; les contrôles
automatiques et les tests décrits ci-dessous passent, les contenus listés plus bas ne sont pas
accessibles ou ne le sont qu'en partie.

### Résultats des tests

- **Contrôle automatique** ({CHECKED_ON}) : axe-core 4.14 (règles WCAG 2.1 niveaux A et AA) exécuté
  dans Chromium sur les pages Diagnostic, Zones prioritaires, Vidéoprotection, Suivi bimestriel,
  Organisation territoriale, France, Données et sur cette page, et, en mode serveur, sur les pages
  Ma commune (maire) et Administration, dans chacun de leurs cadres (cartes comprises), à chaque
  modification du logiciel : **aucune anomalie critique ou grave**. Un contrôle automatique ne
  couvre qu'une partie des critères du RGAA.
- **Langue** : chaque page et chaque cadre de carte déclarent le français (`lang="fr"`) ; les
  cartes des communes (Diagnostic, Suivi, Organisation, France) sont dessinées dans la page même,
  avec un nom accessible (leur titre).
- **Contrastes** : texte principal, légendes et indications en gris au moins 4,5:1 sur leur fond.
- **Clavier** : parcours des filtres du Diagnostic au clavier seul (test automatique).
- **Petits écrans** : à 1 024 × 768 pixels, aucune commande n'est hors de l'écran et aucune valeur
  n'est coupée (test automatique).
- **Nombres et dates** : écrits à la française partout (tableaux, champs, graphiques, exports).

### Contenus non accessibles

**Non-conformités**

- **Cartes** (Leaflet) : leur contenu n'est pas perceptible sans la vue (couleurs des communes,
  zones, caméras ; les communes sont dessinées sur un canevas, une image pour un lecteur d'écran). Chaque carte est accompagnée du tableau qui porte les mêmes informations
  (classement des communes, zones prioritaires, sites retenus, évolutions, unités) : utilisez ce
  tableau avec un lecteur d'écran.
- **Graphiques** (Vega-Lite) : dessinés en image ; leurs valeurs figurent dans les tableaux et les
  exports CSV de la même page, sauf le détail des courbes de concentration et du test de Knox.
- **Navigation au clavier** : les filtres du Diagnostic (période, infractions, lieux, forces,
  taux, échelon, classes) sont atteints avec Tab et se manipulent au clavier (test automatique :
  choisir une infraction, passer à l'échelon EPCI avec les flèches puis Espace) ; les autres pages
  n'ont pas encore ce test, et dans une carte le clavier ne sert qu'à zoomer et se déplacer.
- **Rapports PDF** : ils ont un titre et déclarent le français, mais pas de structure balisée (la bibliothèque reportlab
  n'écrit pas de PDF balisé) : un lecteur d'écran les lit comme un texte continu. Le rapport HTML du
  préfet et les exports CSV portent les mêmes informations.

**Dérogations pour charge disproportionnée** : aucune.

**Contenus non soumis à l'obligation** : les fonds de carte tiers (IGN Plan, OpenStreetMap),
affichés seulement en ligne.

**Textes en anglais** : quelques libellés fournis par Streamlit lui-même restent en anglais et ne
peuvent pas être traduits par l'application : le dépôt de fichier (« Drag and drop file here »,
« Browse files », « Limit 200MB per file »), le sélecteur de dates (noms des mois et des jours du
calendrier), les menus des tableaux (tri, recherche, téléchargement) et certains messages de
connexion.

### Établissement de cette déclaration

Cette déclaration a été établie en {CHECKED_ON}. Technologies utilisées : HTML, CSS, JavaScript
(Streamlit 1.67, Leaflet, Vega-Lite). Environnement de test : Chromium (Debian) sans extension,
axe-core 4.14.

### Retour d'information et contact

Si vous n'arrivez pas à accéder à un contenu ou à un service, signalez-le à l'administrateur de
l'application dans votre préfecture (page « Administration » : la personne qui gère les accès),
qui vous orientera vers une alternative accessible ou vous transmettra le contenu sous une autre
forme.

### Voies de recours

Si vous constatez un défaut d'accessibilité qui vous empêche d'accéder à un contenu ou à une
fonctionnalité, que vous nous l'avez signalé et que vous n'avez pas obtenu de réponse
satisfaisante, vous pouvez saisir le Défenseur des droits (formulaire en ligne, délégué de votre
département, ou courrier gratuit : Défenseur des droits, Libre réponse 71120, 75342 Paris CEDEX 07).
"""
