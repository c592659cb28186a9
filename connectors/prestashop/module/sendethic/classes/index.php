<?php
// No directory listing (PrestaShop module convention).
header('Location: ../');
exit;
